"""Classification and sentiment on the embedded stack: accepted tickets on the bus, their results on the bus.

Each test publishes TicketAccepted itself (as intake would) and reads TicketClassified and
SentimentAnalyzed from a queue of its own on a rule of its own. The workers call the offline Bedrock.
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

from schemas.events import Priority, SentimentAnalyzed, TicketAccepted, TicketClassified
from supportflow.local import EmulatedStack
from supportflow.local.observe import ReceivedMessage, load_event, queue_depth, take_messages
from workers.classify.taxonomy import Taxonomy
from workers.shared.publisher import EventBridgePublisher

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"
RESULTS = ("TicketClassified", "SentimentAnalyzed")
# Several batches per poller (BatchSize 10), so the pollers' numbers decide the order.
BACKLOG = 50
DRAIN_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Harness:
    """Publish accepted tickets; take the classifications and sentiments of chosen flows."""

    stack: EmulatedStack
    results_queue_url: str

    def publish(self, *tickets: TicketAccepted) -> None:
        """Put each ticket on the bus as intake would."""
        bus = self.stack.physical_id("EventBus")
        EventBridgePublisher(bus, "supportflow.intake", self.stack.clients.events).publish(list(tickets))

    def take(self, correlation_ids: set[str], expected: int, timeout: float = 30.0) -> list[ReceivedMessage]:
        """Take up to ``expected`` results of these flows."""

        def ours(message: ReceivedMessage) -> bool:
            body = message.json
            return isinstance(body, dict) and body.get("detail", {}).get("correlation_id") in correlation_ids

        sqs = self.stack.clients.sqs
        return take_messages(sqs, self.results_queue_url, ours, expected=expected, timeout=timeout)

    def drained(self, *queues: str) -> None:
        """Wait until these queues (logical ids) hold nothing, visible or in flight."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        for queue in queues:
            url = self.stack.physical_id(queue)
            while queue_depth(self.stack.clients.sqs, url) != (0, 0):
                assert time.monotonic() < deadline, f"{queue} did not drain"
                time.sleep(0.2)


@pytest.fixture(scope="module")
def harness(local_stack: EmulatedStack) -> Iterator[Harness]:
    """A rule and queue that tap TicketClassified and SentimentAnalyzed."""
    sqs, events, bus = local_stack.clients.sqs, local_stack.clients.events, local_stack.physical_id("EventBus")
    name = f"it-classified-{uuid.uuid4().hex[:6]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": list(RESULTS)}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    try:
        yield Harness(local_stack, queue_url)
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["tap"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=queue_url)


def accepted(ticket_id: str, priority: Priority = "normal", **detail: object) -> TicketAccepted:
    """The sample TicketAccepted, about this ticket, with a fresh event id, happening now."""
    loaded = load_event(EVENTS / "TicketAccepted.json")["detail"]
    fresh = {
        "event_id": str(uuid.uuid4()),
        "correlation_id": ticket_id,
        "ticket_id": ticket_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "priority": priority,
    }
    return TicketAccepted.from_detail({**loaded, **fresh, **detail})


def by_type(messages: list[ReceivedMessage]) -> dict[str, list[ReceivedMessage]]:
    """The taken messages grouped by detail-type."""
    grouped: dict[str, list[ReceivedMessage]] = {kind: [] for kind in RESULTS}
    for message in messages:
        grouped[message.json["detail-type"]].append(message)
    return grouped


def test_an_accepted_ticket_is_classified_and_its_sentiment_read(harness: Harness, unique_id: str) -> None:
    # Given an angry customer's accepted ticket about a double charge
    ticket = accepted(
        f"T-{unique_id}",
        subject="Charged twice for my order",
        body="This is the third time I write. I was charged twice and want my money back now. Unacceptable.",
    )
    # When it is published on the bus
    harness.publish(ticket)
    # Then one TicketClassified and one SentimentAnalyzed come back in the ticket's flow
    results = by_type(harness.take({ticket.correlation_id}, expected=2))
    (classified_message,) = results["TicketClassified"]
    (sentiment_message,) = results["SentimentAnalyzed"]
    classified = TicketClassified.from_detail(classified_message.json["detail"])
    sentiment = SentimentAnalyzed.from_detail(sentiment_message.json["detail"])
    assert classified.correlation_id == sentiment.correlation_id == ticket.correlation_id
    assert (classified.ticket_id, sentiment.subject_id, sentiment.subject_kind) == (ticket.ticket_id,) * 2 + ("ticket",)
    # And the classification is within the taxonomy, consistent with it, and costed
    taxonomy = Taxonomy.load()
    assert classified.intent in taxonomy.intent_names
    assert classified.category == taxonomy.category_of(classified.intent)
    assert classified.summary and classified.usage.input_tokens > 0 and classified.usage.estimated_cost_usd > 0
    # And the customer reads as unhappy
    assert sentiment.label in ("negative", "very_negative") and sentiment.score < 0


def test_the_same_event_delivered_twice_yields_one_of_each(harness: Harness, unique_id: str) -> None:
    # Given an accepted ticket
    ticket = accepted(f"T-{unique_id}", priority="high")
    # When the very same event reaches the bus twice (a producer retrying its PutEvents)
    harness.publish(ticket)
    harness.publish(ticket)
    harness.drained("HighPriorityQueue", "SentimentQueue")
    # Then one TicketClassified and one SentimentAnalyzed went out (the runtime's idempotency)
    results = by_type(harness.take({ticket.correlation_id}, expected=4, timeout=5))
    assert [len(results[kind]) for kind in RESULTS] == [1, 1]


def test_under_a_backlog_high_priority_drains_before_low(
    local_stack: EmulatedStack, harness: Harness, unique_id: str
) -> None:
    # Given the same backlog of accepted tickets on the high and the low priority queue, built while
    # the classifier was paused
    tickets = {
        priority: [accepted(f"T-{unique_id}-{priority}-{n}", priority=priority) for n in range(BACKLOG)]
        for priority in ("high", "low")
    }
    flows = {ticket.correlation_id: priority for priority, batch in tickets.items() for ticket in batch}
    # The ticket record is held meanwhile and these tickets' events are taken off its queue afterwards: a
    # hundred analysed tickets would otherwise be drafted and escalated behind the tests that follow.
    with local_stack.paused("TicketRecordFunction"):
        with local_stack.paused("ClassifyFunction"):
            for batch in tickets.values():
                harness.publish(*batch)
            for queue in ("HighPriorityQueue", "LowPriorityQueue"):
                depth = queue_depth(local_stack.clients.sqs, local_stack.physical_id(queue))
                assert depth[0] >= BACKLOG, f"{queue} holds the backlog before the classifier resumes"
        # When the classifier resumes (10 pollers on high, 2 on low: the template's MaximumConcurrency)
        harness.drained("HighPriorityQueue", "LowPriorityQueue")
        classified = [
            TicketClassified.from_detail(message.json["detail"])
            for message in harness.take(set(flows), expected=4 * BACKLOG, timeout=10)
            if message.json["detail-type"] == "TicketClassified"
        ]
        take_messages(
            local_stack.clients.sqs,
            local_stack.physical_id("TicketRecordQueue"),
            lambda message: (
                isinstance(message.json, dict) and message.json.get("detail", {}).get("correlation_id") in flows
            ),
            expected=6 * BACKLOG,
            timeout=5,
        )
    # Then every ticket was classified once, and the last high one before the last low one
    assert len(classified) == 2 * BACKLOG
    last = {
        priority: max(c.occurred_at for c in classified if flows[c.correlation_id] == priority) for priority in tickets
    }
    assert last["high"] < last["low"]
