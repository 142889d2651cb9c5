"""The ticket record on the embedded stack: real events on the bus fold into one item and one TicketAnalyzed.

The test publishes the accepted ticket, its classification and its sentiment itself (the upstream
workers are paused meanwhile, so only these events reach the record), and watches the bus for
TicketAnalyzed through a queue of its own on a rule of its own.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.envelope import Event
from schemas.events import SentimentAnalyzed, TicketAccepted, TicketAnalyzed, TicketClassified
from supportflow.local import EmulatedStack
from supportflow.local.observe import in_flow, load_event, take_messages
from workers.shared.publisher import EventBridgePublisher
from workers.ticket_record.logic import analyzed_event_id
from workers.ticket_record.record import TicketRecord
from workers.ticket_record.store import DynamoDBTicketStore

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"
TENANT = "acme"
SETTLE_TIMEOUT_SECONDS = 30.0
# What a ticket's accepted, classified and sentiment events (and the join they complete) decide in its item.
FOLDED_FROM_THE_TICKETS_EVENTS = {
    "customer",
    "priority",
    "ticket",
    "classification",
    "sentiment",
    "escalation",
    "analysis",
}


@dataclass(frozen=True)
class Harness:
    """Publish ticket events, read the item, take the TicketAnalyzed events of a flow."""

    stack: EmulatedStack
    analyzed_queue_url: str

    def publish(self, *events: Event) -> None:
        """Put each event on the bus as its producing worker would."""
        for event in events:
            source = f"supportflow.test.{event.detail_type.lower()}"
            EventBridgePublisher(self.stack.physical_id("EventBus"), source, self.stack.clients.events).publish([event])

    def record(self, ticket_id: str) -> TicketRecord | None:
        """The ticket's item as the table holds it."""
        store = DynamoDBTicketStore(self.stack.physical_id("TicketsTable"), client=self.stack.clients.dynamodb)
        return store.get(TENANT, ticket_id)

    def settled(self, ticket_id: str, *events: Event) -> TicketRecord:
        """Wait until the item has applied every event and flagged its TicketAnalyzed as published."""
        wanted = {event.event_id for event in events}
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while True:
            record = self.record(ticket_id)
            done = record is not None and wanted <= set(record.applied_event_ids)
            if done and record is not None and (record.analysis is None or record.analysis.published):
                return record
            assert time.monotonic() < deadline, f"{ticket_id} did not settle: {record}"
            time.sleep(0.2)

    def analyzed(self, ticket_id: str) -> list[TicketAnalyzed]:
        """Every TicketAnalyzed of the ticket on the bus so far (the item says it was published)."""
        messages = take_messages(
            self.stack.clients.sqs, self.analyzed_queue_url, in_flow(ticket_id), expected=10, timeout=2
        )
        return [TicketAnalyzed.model_validate(message.json["detail"]) for message in messages]


@pytest.fixture(scope="module")
def harness(local_stack: EmulatedStack) -> Iterator[Harness]:
    """A rule and queue that tap TicketAnalyzed; every worker but the ticket record's paused."""
    sqs, events, bus = local_stack.clients.sqs, local_stack.clients.events, local_stack.physical_id("EventBus")
    name = f"it-ticket-analyzed-{uuid.uuid4().hex[:6]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": ["TicketAnalyzed"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    upstream = {worker.function_logical_id for worker in local_stack.workers.values()} - {"TicketRecordFunction"}
    try:
        with local_stack.paused(*upstream):
            yield Harness(local_stack, queue_url)
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["tap"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=queue_url)


def sample(event_type: type[Event], ticket_id: str, **detail: object) -> Event:
    """The event's sample in events/, about this ticket, with a fresh event id, happening now."""
    loaded = load_event(EVENTS / f"{event_type.detail_type}.json")["detail"]
    ids = {
        "event_id": str(uuid.uuid4()),
        "correlation_id": ticket_id,
        "tenant_id": TENANT,
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    about = {"subject_id": ticket_id} if event_type is SentimentAnalyzed else {"ticket_id": ticket_id}
    return event_type.from_detail({**loaded, **ids, **about, **detail})


def ticket_events(ticket_id: str) -> tuple[Event, Event, Event]:
    """A premium customer's accepted ticket, its classification and a negative sentiment."""
    return (
        sample(TicketAccepted, ticket_id),
        sample(TicketClassified, ticket_id),
        sample(SentimentAnalyzed, ticket_id),
    )


@pytest.mark.parametrize("sentiment_first", [False, True], ids=["classified-first", "sentiment-first"])
def test_classification_and_sentiment_in_either_order_yield_one_ticket_analyzed(
    harness: Harness, unique_id: str, sentiment_first: bool
) -> None:
    # Given an accepted ticket
    ticket_id = f"T-{unique_id}"
    accepted, classified, sentiment = ticket_events(ticket_id)
    harness.publish(accepted)
    # When its classification and its sentiment arrive, in either order
    harness.publish(*((sentiment, classified) if sentiment_first else (classified, sentiment)))
    # Then the item holds all three and the escalation decision
    record = harness.settled(ticket_id, accepted, classified, sentiment)
    assert record.status == "analyzed" and record.priority == "high"
    assert record.customer is not None and record.customer.tier == "premium"
    assert record.escalation is not None and record.escalation.needs_escalation
    assert "premium or enterprise customer unhappy" in record.escalation.reasons
    # And exactly one TicketAnalyzed went out, with the ticket's id
    (analyzed,) = harness.analyzed(ticket_id)
    assert analyzed.event_id == analyzed_event_id(TENANT, ticket_id)
    assert (analyzed.intent, analyzed.sentiment, analyzed.needs_escalation) == ("payment_issue", "negative", True)


def test_every_event_delivered_twice_changes_nothing(harness: Harness, unique_id: str) -> None:
    # Given a ticket's three events, folded
    ticket_id = f"T-{unique_id}"
    events = ticket_events(ticket_id)
    harness.publish(*events)
    before = harness.settled(ticket_id, *events)
    assert len(harness.analyzed(ticket_id)) == 1
    # When every one of them is delivered again (a producer retrying its PutEvents: new bus ids)
    harness.publish(*events)
    harness.publish(*events)
    # Then what these events fold into the item is unchanged and no second TicketAnalyzed appears (the
    # escalation this premium, unhappy ticket starts may fold its own events into the item meanwhile)
    assert harness.analyzed(ticket_id) == []
    after = harness.settled(ticket_id, *events)
    assert after.model_dump(include=FOLDED_FROM_THE_TICKETS_EVENTS) == before.model_dump(
        include=FOLDED_FROM_THE_TICKETS_EVENTS
    )
    assert [i for i in after.applied_event_ids if i in {e.event_id for e in events}] == sorted(
        e.event_id for e in events
    )


def test_a_resubmitted_ticket_updates_the_item_without_a_second_ticket_analyzed(
    harness: Harness, unique_id: str
) -> None:
    # Given a ticket analysed once
    ticket_id = f"T-{unique_id}"
    first = ticket_events(ticket_id)
    harness.publish(*first)
    harness.settled(ticket_id, *first)
    (analyzed,) = harness.analyzed(ticket_id)
    # When the same ticket id is submitted again under new event ids (an edit), and analysed again
    edited = (
        sample(TicketAccepted, ticket_id, subject="Charged twice and now my lawyer is involved"),
        sample(TicketClassified, ticket_id, intent="get_refund"),
        sample(SentimentAnalyzed, ticket_id, label="very_negative", score=-0.9),
    )
    harness.publish(*edited)
    # Then the one item holds the edit's facts and its new escalation reasons
    record = harness.settled(ticket_id, *first, *edited)
    assert record.ticket is not None and record.ticket.event_id == edited[0].event_id
    assert record.classification is not None and record.classification.intent == "get_refund"
    assert record.escalation is not None and "legal threat" in record.escalation.reasons
    # And no second TicketAnalyzed (so no second CRM case, no second round of notifications)
    assert harness.analyzed(ticket_id) == []
    assert record.analysis is not None and record.analysis.event_id == analyzed.event_id
