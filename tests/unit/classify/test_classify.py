"""Classification: the Bedrock classifier's request and answer, the review flag, the taxonomy, once-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.events import TicketAccepted, TicketClassified
from tests.unit.classify.fakes import ToolAnsweringRuntime, client_on
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.runtime.test_worker import sqs_event
from workers.classify.bedrock import BedrockClassifier
from workers.classify.logic import Classification, ClassificationService, TicketText, UnknownIntent
from workers.classify.taxonomy import Taxonomy
from workers.classify.wiring import ClassifySettings, build_app
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.worker import sqs_worker

LoadEvent = Callable[[str], dict[str, Any]]
REFUND = {
    "intent": "get_refund",
    "category": "refund",
    "confidence": 0.91,
    "summary": "Wants the duplicate charge refunded.",
    "key_issues": ["charged twice", "refund"],
}


class ScriptedClassifier:
    """A classifier that gives one answer and counts how often it was asked."""

    def __init__(self, **answer: Any) -> None:
        self.answer = Classification(model_id="fake-model", **{**REFUND, **answer})
        self.calls = 0

    def classify(self, ticket: TicketText) -> Classification:
        self.calls += 1
        return self.answer


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture
def accepted(load_event: LoadEvent) -> TicketAccepted:
    return TicketAccepted.from_detail(load_event("TicketAccepted")["detail"])


def test_the_bitext_taxonomy_has_27_intents_in_11_categories(taxonomy: Taxonomy) -> None:
    # Given the shipped taxonomy file / When it is loaded / Then it lists the Bitext intents by category
    assert (len(taxonomy.intent_names), len(taxonomy.category_names)) == (27, 11)
    assert taxonomy.category_of("get_refund") == "refund"


def test_a_taxonomy_listing_an_intent_twice_is_refused() -> None:
    # Given a file whose two categories both list cancel_order
    intent = {"name": "cancel_order", "description": "Cancel."}
    data = {"name": "t", "version": "1", "categories": [{"name": n, "intents": [intent]} for n in ("a", "b")]}
    # When / Then it is refused at load, naming the intent
    with pytest.raises(ValidationError, match="cancel_order"):
        Taxonomy.model_validate(data)


def test_the_bedrock_classifier_constrains_the_intent_and_reports_usage_and_cost(taxonomy: Taxonomy) -> None:
    # Given a model that answers with a refund
    runtime = ToolAnsweringRuntime([REFUND])
    classifier = BedrockClassifier(client_on(runtime), taxonomy)
    # When a ticket is classified
    answer = classifier.classify(TicketText(subject="Charged twice", body="Please refund the duplicate."))
    # Then one call forced a tool whose intent enum is the taxonomy, with every description in the prompt
    (request,) = runtime.requests
    schema = request["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert tuple(schema["properties"]["intent"]["enum"]) == taxonomy.intent_names
    system = request["system"][0]["text"]
    described = [intent.description for category in taxonomy.categories for intent in category.intents]
    assert described and all(description in system for description in described)
    assert "Please refund the duplicate." in request["messages"][0]["content"][0]["text"]
    # And the answer carries the model, its tokens and their cost (Haiku 4.5: $1 in / $5 out per Mtok)
    assert (answer.intent, answer.confidence, answer.key_issues) == ("get_refund", 0.91, ("charged twice", "refund"))
    assert answer.model_id == request["modelId"]
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (1000, 100)
    assert answer.usage.estimated_cost_usd == pytest.approx(0.0015)


def test_an_intent_outside_the_taxonomy_is_corrected_once_by_the_client(taxonomy: Taxonomy) -> None:
    # Given a model that first invents an intent, then answers within the taxonomy
    runtime = ToolAnsweringRuntime([{**REFUND, "intent": "money_back"}, REFUND])
    # When a ticket is classified / Then the schema's enum made the client ask again, and the answer is valid
    answer = BedrockClassifier(client_on(runtime), taxonomy).classify(TicketText(subject="", body="Refund me."))
    assert len(runtime.requests) == 2 and answer.intent == "get_refund"


@pytest.mark.parametrize(("confidence", "needs_review"), [(0.49, True), (0.5, False), (0.95, False)])
def test_below_the_threshold_a_ticket_is_marked_for_review(
    taxonomy: Taxonomy, accepted: TicketAccepted, confidence: float, needs_review: bool
) -> None:
    # Given a threshold of 0.5 and a classifier this sure of its answer
    publisher = InMemoryPublisher()
    service = ClassificationService(ScriptedClassifier(confidence=confidence), publisher, taxonomy, 0.5)
    # When the accepted ticket is classified
    classified = service.process(accepted)
    # Then the review flag follows the threshold, and the event went out in the ticket's flow
    assert classified.needs_review is needs_review
    assert publisher.published == [classified]
    assert (classified.correlation_id, classified.tenant_id, classified.ticket_id) == ("T-1001", "acme", "T-1001")


def test_the_category_follows_the_intent_whatever_the_model_said(taxonomy: Taxonomy, accepted: TicketAccepted) -> None:
    # Given a classifier that pairs get_refund with the wrong category
    service = ClassificationService(ScriptedClassifier(category="order"), InMemoryPublisher(), taxonomy, 0.5)
    # When / Then the taxonomy's category of the intent is emitted
    assert service.process(accepted).category == "refund"


def test_an_unknown_intent_fails_the_record_and_publishes_nothing(taxonomy: Taxonomy, accepted: TicketAccepted) -> None:
    # Given a classifier (not constrained by a schema) that answers outside the taxonomy
    publisher = InMemoryPublisher()
    service = ClassificationService(ScriptedClassifier(intent="money_back"), publisher, taxonomy, 0.5)
    # When / Then the record fails, so SQS retries it, and nothing was published
    with pytest.raises(UnknownIntent):
        service.process(accepted)
    assert publisher.published == []


def test_the_same_event_delivered_twice_is_classified_and_published_once(load_event: LoadEvent) -> None:
    # Given the worker wired with a fake classifier, publisher and idempotency store
    classifier, publisher = ScriptedClassifier(), InMemoryPublisher()
    settings = ClassifySettings(event_bus_name="bus", idempotency_table_name="idem", review_confidence_threshold=0.5)
    handler = sqs_worker(
        consumes=TicketAccepted,
        build=lambda: build_app(
            settings, classifier=classifier, publisher=publisher, persistence=InMemoryIdempotencyStore()
        ),
    )
    body = json.dumps(load_event("TicketAccepted"))
    # When the same TicketAccepted arrives twice
    first = handler(sqs_event(body), FakeLambdaContext())
    second = handler(sqs_event(body), FakeLambdaContext())
    # Then it was classified and published once, with an id derived from the cause
    assert first == second == {"batchItemFailures": []}
    assert classifier.calls == 1
    (classified,) = publisher.published
    assert isinstance(classified, TicketClassified) and classified.intent == "get_refund"
