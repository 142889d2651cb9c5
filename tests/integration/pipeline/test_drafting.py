"""Drafting on the offline Bedrock through unmodified boto3: the chain's three steps answered by computation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from schemas.events import ResponseDrafted, TicketAnalyzed
from supportflow.bedrock_offline.server import OfflineBedrock
from supportflow.local import EmulatedStack
from supportflow.local.observe import ReceivedMessage, take_messages
from tests.constants import ACCOUNT_ID
from workers.drafting.bedrock import BedrockDraftingModel
from workers.drafting.ports import DraftRequest, Passage, QuestionContext, TicketText
from workers.shared.bedrock import BedrockClient, NullMetrics, NullTracer
from workers.shared.publisher import EventBridgePublisher

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"

REFUND = Passage(
    text="Duplicate charges are refunded to the original card within 5 business days. "
    "You do not need to send a new request once the charge is reported.",
    uri="kb://payments/duplicate-charges",
    title="Duplicate charges",
    score=0.8,
)
DELIVERY = Passage(
    text="Standard delivery takes 3 to 5 business days. Express delivery arrives the next business day.",
    uri="kb://delivery/times",
    title="Delivery times",
    score=0.7,
)
TICKET = TicketText(
    subject="Charged twice",
    body="I was charged twice for order #A-10023 (49.90 EUR). How do I get the second payment back? "
    "Also, can I pay with crypto next time?",
    language="en",
)


@pytest.fixture(scope="module")
def model(offline_bedrock: OfflineBedrock) -> BedrockDraftingModel:
    runtime: BedrockRuntimeClient = boto3.client("bedrock-runtime", endpoint_url=offline_bedrock.url)
    return BedrockDraftingModel(BedrockClient(runtime, metrics=NullMetrics(), tracer=NullTracer()))


def test_extraction_finds_the_customers_questions_and_facts(model: BedrockDraftingModel) -> None:
    # Given a ticket with two questions, an order number and an amount / When the model extracts
    step = model.extract(TICKET)
    # Then both questions and the facts are read from the ticket text
    assert step.output.questions == (
        "How do I get the second payment back?",
        "Also, can I pay with crypto next time?",
    )
    assert step.output.facts["Order Number"] == "A-10023"
    assert step.usage.input_tokens > 0


def test_the_draft_uses_the_passages_and_defers_what_none_answers(model: BedrockDraftingModel) -> None:
    # Given one question with its passages and one with none
    request = DraftRequest(
        ticket=TICKET,
        questions=(
            QuestionContext("How do I get the second payment back?", (REFUND, DELIVERY)),
            QuestionContext("Can I pay with crypto?", ()),
        ),
        facts={},
    )
    # When the model drafts
    reply = model.draft(request).output
    # Then it quotes the refund passage, not the delivery one, and hands the other question to an agent
    assert "refunded to the original card within 5 business days" in reply
    assert "Express delivery" not in reply
    assert "will follow up personally on this question: Can I pay with crypto?" in reply


def test_the_draft_is_in_the_customers_language(model: BedrockDraftingModel) -> None:
    # Given a Spanish ticket whose question has no passage
    ticket = TicketText(subject="", body="¿Puedo pagar con criptomonedas?", language="es")
    request = DraftRequest(ticket=ticket, questions=(QuestionContext("¿Puedo pagar con criptomonedas?", ()),), facts={})
    # When the model drafts / Then the frame of the reply is Spanish
    reply = model.draft(request).output
    assert reply.startswith("Hola,") and "Un miembro de nuestro equipo" in reply


def test_the_self_check_computes_support_per_claim(model: BedrockDraftingModel) -> None:
    # Given a draft with a passage sentence, a close restatement and an invented claim
    draft = (
        "Hello, Thank you for contacting us. "
        "Duplicate charges are refunded to the original card within 5 business days. "
        "Duplicate charges go back to your original card within 5 business days. "
        "We will also give you a 50% discount voucher on your next purchase. "
        "Best regards, Customer Support"
    )
    # When the model checks it against the refund passage
    claims = model.check(draft, (REFUND,)).output
    # Then greetings are not claims, the two refund sentences are supported by the article, the voucher is not
    verdicts = {c.text: (c.supported, c.source) for c in claims}
    assert verdicts == {
        "Duplicate charges are refunded to the original card within 5 business days.": (True, REFUND.uri),
        "Duplicate charges go back to your original card within 5 business days.": (True, REFUND.uri),
        "We will also give you a 50% discount voucher on your next purchase.": (False, None),
    }


def test_a_redraft_leaves_out_the_claims_named_unsupported(model: BedrockDraftingModel) -> None:
    # Given feedback naming the passage's first sentence as unsupported
    first = "Duplicate charges are refunded to the original card within 5 business days."
    request = DraftRequest(
        ticket=TICKET,
        questions=(QuestionContext("How do I get the second payment back?", (REFUND,)),),
        facts={},
        unsupported_feedback=(first,),
    )
    # When the model redrafts / Then that sentence is gone
    assert first not in model.draft(request).output


# --- the embedded stack: real events, the offline Bedrock and the shipped knowledge base ----------------

RESULT = "ResponseDrafted"
REFUND_BODY = "Hello, I returned my order last week. How long does it take until my refund reaches my card?"
UNKNOWN_BODY = "Hi, what is the capital of Australia?"


@dataclass(frozen=True)
class Harness:
    """Publish analysed tickets; take the drafts of chosen flows."""

    stack: EmulatedStack
    results_queue_url: str

    def publish(self, ticket: TicketAnalyzed) -> None:
        """Put the ticket on the bus as the ticket record would."""
        bus = self.stack.physical_id("EventBus")
        EventBridgePublisher(bus, "supportflow.ticket-record", self.stack.clients.events).publish([ticket])

    def drafts(self, correlation_id: str, timeout: float = 60.0) -> list[ResponseDrafted]:
        """The drafts of this flow that arrive within ``timeout`` (at most one is expected)."""

        def ours(message: ReceivedMessage) -> bool:
            body = message.json
            return isinstance(body, dict) and body.get("detail", {}).get("correlation_id") == correlation_id

        taken = take_messages(self.stack.clients.sqs, self.results_queue_url, ours, expected=1, timeout=timeout)
        return [ResponseDrafted.from_detail(message.json["detail"]) for message in taken]

    def take(self, correlation_id: str) -> ResponseDrafted:
        """The one draft of this flow."""
        drafts = self.drafts(correlation_id)
        assert len(drafts) == 1, f"no ResponseDrafted for {correlation_id}"
        return drafts[0]


@pytest.fixture(scope="module")
def harness(local_stack: EmulatedStack) -> Iterator[Harness]:
    """A rule and queue that tap ResponseDrafted."""
    sqs, events, bus = local_stack.clients.sqs, local_stack.clients.events, local_stack.physical_id("EventBus")
    name = f"it-drafted-{uuid.uuid4().hex[:6]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": [RESULT]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    try:
        yield Harness(local_stack, queue_url)
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["tap"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=queue_url)


def analysed(unique_id: str, body: str, *, escalate: bool = False) -> TicketAnalyzed:
    """An analysed ticket of its own flow, from the sample, with ``body``."""
    sample = json.loads((EVENTS / "TicketAnalyzed.json").read_text(encoding="utf-8"))["detail"]
    return TicketAnalyzed.model_validate(
        {
            **sample,
            "event_id": str(uuid.uuid4()),
            "correlation_id": f"T-{unique_id}",
            "ticket_id": f"T-{unique_id}",
            "subject": "Question",
            "body": body,
            "needs_escalation": escalate,
            "escalation_reasons": ["angry premium customer"] if escalate else [],
        }
    )


def test_a_ticket_gets_a_grounded_reply_with_sources_from_the_knowledge_base(harness: Harness, unique_id: str) -> None:
    # Given an analysed refund question that needs no escalation
    ticket = analysed(unique_id, REFUND_BODY)
    # When it is on the bus
    harness.publish(ticket)
    # Then a grounded reply arrives, citing refund articles of the shipped knowledge base, costed
    drafted = harness.take(ticket.correlation_id)
    assert drafted.ticket_id == ticket.ticket_id and not drafted.for_escalation
    assert drafted.grounded, drafted.unsupported_claims
    assert drafted.sources and all(s.uri.startswith("https://help.example.com/") for s in drafted.sources)
    assert "/refunds/" in drafted.sources[0].uri
    assert drafted.usage.input_tokens > 0 and drafted.usage.estimated_cost_usd > 0


def test_a_question_the_knowledge_base_cannot_answer_is_flagged_not_invented(harness: Harness, unique_id: str) -> None:
    # Given a question the shipped knowledge base says nothing about
    ticket = analysed(unique_id, UNKNOWN_BODY)
    # When it is on the bus
    harness.publish(ticket)
    # Then the reply defers to an agent and is flagged ungrounded, citing nothing
    drafted = harness.take(ticket.correlation_id)
    assert drafted.grounded is False and drafted.sources == []
    assert drafted.unsupported_claims == ["Unanswered question: Hi, what is the capital of Australia?"]
    assert "will follow up personally" in drafted.draft


def test_an_escalated_ticket_is_not_drafted_from_the_bus(harness: Harness, unique_id: str) -> None:
    # Given an analysed ticket that needs escalation, followed by one that does not
    escalated, plain = analysed(unique_id, REFUND_BODY, escalate=True), analysed(f"{unique_id}b", REFUND_BODY)
    harness.publish(escalated)
    harness.publish(plain)
    # When the second is drafted / Then the first never was drafted to send (the rule filtered it): the only
    # draft it may get is the escalation's, made for a human to approve
    harness.take(plain.correlation_id)
    drafts = harness.drafts(escalated.correlation_id, timeout=3.0)
    assert [draft.for_escalation for draft in drafts] in ([], [True])


def test_the_task_token_path_resumes_the_state_machine_with_the_draft(
    local_stack: EmulatedStack, harness: Harness, unique_id: str
) -> None:
    # Given a one-state machine that sends the ticket to DraftRequestQueue and waits for its task token
    queue_url = local_stack.physical_id("DraftRequestQueue")
    definition = {
        "StartAt": "Draft",
        "States": {
            "Draft": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue_url,
                    "MessageBody": {"taskToken.$": "$$.Task.Token", "ticket.$": "$.ticket"},
                },
                "TimeoutSeconds": 120,
                "End": True,
            }
        },
    }
    sfn = local_stack.clients.stepfunctions
    machine = sfn.create_state_machine(
        name=f"it-draft-{unique_id}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/it-drafting",
    )["stateMachineArn"]
    ticket = analysed(unique_id, REFUND_BODY, escalate=True)
    # When an execution starts
    execution = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps({"ticket": ticket.model_dump(mode="json")})
    )["executionArn"]
    deadline = time.monotonic() + 90
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never resumed"
        time.sleep(0.5)
    # Then the worker answered SendTaskSuccess: the execution succeeded with the draft as its output
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["grounded"] is True and output["draft"] and output["sources"]
    # And the same draft is on the bus, for escalation, under the id the task was answered with
    drafted = harness.take(ticket.correlation_id)
    assert drafted.for_escalation and drafted.event_id == output["event_id"] and drafted.draft == output["draft"]
