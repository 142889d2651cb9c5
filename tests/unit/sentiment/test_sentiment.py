"""Sentiment: the Bedrock analyzer's request and answer, any subject kind, once-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from schemas.events import SentimentAnalyzed, TicketAccepted
from tests.unit.classify.fakes import ToolAnsweringRuntime, client_on
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.runtime.test_worker import sqs_event
from workers.sentiment.bedrock import BedrockSentimentAnalyzer
from workers.sentiment.logic import Sentiment, SentimentService, Subject
from workers.sentiment.wiring import build_app
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.worker import sqs_worker
from workers.shared.settings import IdempotentWorkerSettings

LoadEvent = Callable[[str], dict[str, Any]]
ANGRY = {"label": "very_negative", "score": -0.85, "urgency_cues": ["third time", "unacceptable"]}


class ScriptedAnalyzer:
    """An analyzer that gives one answer and keeps the texts it read."""

    def __init__(self, **answer: Any) -> None:
        self.answer = Sentiment(model_id="fake-model", **{**ANGRY, **answer})
        self.texts: list[str] = []

    def analyze(self, text: str, language: str) -> Sentiment:
        self.texts.append(text)
        return self.answer


@pytest.fixture
def accepted(load_event: LoadEvent) -> TicketAccepted:
    return TicketAccepted.from_detail(load_event("TicketAccepted")["detail"])


def test_the_bedrock_analyzer_asks_for_label_score_and_cues_and_reports_cost() -> None:
    # Given a model that reads an angry customer
    runtime = ToolAnsweringRuntime([ANGRY])
    # When a text is analyzed
    answer = BedrockSentimentAnalyzer(client_on(runtime)).analyze("Third time I write. Unacceptable.", "en")
    # Then one call forced a tool with the four labels and a bounded score, on the text alone
    (request,) = runtime.requests
    schema = request["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    label = schema["properties"]["label"]
    assert set(label["enum"]) == {"very_negative", "negative", "neutral", "positive"}
    assert (schema["properties"]["score"]["minimum"], schema["properties"]["score"]["maximum"]) == (-1.0, 1.0)
    assert request["messages"][0]["content"][0]["text"] == "Third time I write. Unacceptable."
    # And the answer carries the reading, the model and what it cost
    assert (answer.label, answer.score, answer.urgency_cues) == ("very_negative", -0.85, ("third time", "unacceptable"))
    assert answer.model_id == request["modelId"] and answer.usage.estimated_cost_usd > 0


def test_a_ticket_is_read_from_its_subject_and_body_and_emitted_in_its_flow(accepted: TicketAccepted) -> None:
    # Given the service with a scripted analyzer
    analyzer, publisher = ScriptedAnalyzer(), InMemoryPublisher()
    # When an accepted ticket is processed
    analyzed = SentimentService(analyzer, publisher).process(accepted)
    # Then the analyzer read subject and body, and a SentimentAnalyzed about the ticket went out
    assert analyzer.texts == [f"{accepted.subject}\n\n{accepted.body}"]
    assert publisher.published == [analyzed]
    assert (analyzed.subject_kind, analyzed.subject_id, analyzed.correlation_id) == ("ticket", "T-1001", "T-1001")
    assert analyzed.label == "very_negative" and analyzed.urgency_cues == ["third time", "unacceptable"]


def test_feedback_can_use_the_same_analysis(accepted: TicketAccepted) -> None:
    # Given any event as the cause and a feedback text as the subject
    service = SentimentService(ScriptedAnalyzer(label="positive", score=0.8, urgency_cues=[]), InMemoryPublisher())
    # When it is analyzed
    analyzed = service.analyze(accepted, Subject(kind="feedback", id="F-9", text="Great help, thanks!"))
    # Then the event is about the feedback
    assert (analyzed.subject_kind, analyzed.subject_id, analyzed.label) == ("feedback", "F-9", "positive")


def test_repeated_or_blank_cues_are_dropped(accepted: TicketAccepted) -> None:
    # Given an analyzer that repeats a cue and adds a blank one
    analyzer = ScriptedAnalyzer(urgency_cues=["third  time", "third time", " "])
    # When / Then each cue appears once, whitespace normalised
    assert SentimentService(analyzer, InMemoryPublisher()).process(accepted).urgency_cues == ["third time"]


def test_the_same_event_delivered_twice_is_analyzed_and_published_once(load_event: LoadEvent) -> None:
    # Given the worker wired with fakes
    analyzer, publisher = ScriptedAnalyzer(), InMemoryPublisher()
    settings = IdempotentWorkerSettings(event_bus_name="bus", idempotency_table_name="idem")
    handler = sqs_worker(
        consumes=TicketAccepted,
        build=lambda: build_app(
            settings, analyzer=analyzer, publisher=publisher, persistence=InMemoryIdempotencyStore()
        ),
    )
    body = json.dumps(load_event("TicketAccepted"))
    # When the same TicketAccepted arrives twice
    assert handler(sqs_event(body), FakeLambdaContext()) == {"batchItemFailures": []}
    assert handler(sqs_event(body), FakeLambdaContext()) == {"batchItemFailures": []}
    # Then it was analyzed and published once
    assert len(analyzer.texts) == 1
    (analyzed,) = publisher.published
    assert isinstance(analyzed, SentimentAnalyzed)
