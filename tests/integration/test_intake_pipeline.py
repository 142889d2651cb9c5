"""Intake on the embedded stack: tickets put on the bus come out accepted on their priority queue.

Everything asserted here is what the emulator holds after real calls: the bus routes with the
template's rules, the intake worker runs as its own process with the template's environment, and
SQS redrives with the template's redrive policy.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from schemas import TicketAccepted
from supportflow.local import EmulatedStack
from supportflow.local.observe import in_flow, load_event, put_bus_event, take_messages

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"
QUEUE_BY_PRIORITY = {"high": "HighPriorityQueue", "normal": "NormalPriorityQueue", "low": "LowPriorityQueue"}
PII = ("dana.fox@example.com", "4111 1111 1111 1111", "555 0132", "5500 0000 0000 0004", "7946 0958", "@example.org")


def submit(stack: EmulatedStack, sample_name: str, **detail: Any) -> str:
    """Put a sample TicketSubmitted on the bus with fresh ids; return its correlation id."""
    correlation_id = f"T-{uuid.uuid4().hex[:10]}"
    overrides = {"event_id": str(uuid.uuid4()), "correlation_id": correlation_id, "ticket_id": correlation_id}
    sample = load_event(EVENTS / sample_name)
    put_bus_event(stack.clients.events, stack.physical_id("EventBus"), sample, {**overrides, **detail})
    return correlation_id


def accepted_on(stack: EmulatedStack, priority: str, correlation_id: str) -> TicketAccepted:
    """The TicketAccepted for this ticket, taken off the queue of ``priority``."""
    queue_url = stack.physical_id(QUEUE_BY_PRIORITY[priority])
    (message,) = take_messages(stack.clients.sqs, queue_url, in_flow(correlation_id), timeout=30)
    body = message.json
    assert body["detail-type"] == "TicketAccepted" and body["source"] == "supportflow.intake"
    return TicketAccepted.model_validate(body["detail"])


def nowhere_else(stack: EmulatedStack, priority: str, correlation_id: str) -> None:
    for other, logical_id in QUEUE_BY_PRIORITY.items():
        if other != priority:
            found = take_messages(stack.clients.sqs, stack.physical_id(logical_id), in_flow(correlation_id), timeout=0)
            assert not found, f"{correlation_id} also reached the {other} queue"


@pytest.mark.parametrize("priority", ["high", "normal", "low"])
def test_upstream_priority_routes_to_its_queue(local_stack: EmulatedStack, priority: str) -> None:
    # Given a sample ticket with an upstream priority, When it is submitted on the bus
    correlation_id = submit(local_stack, "TicketSubmitted.json", priority=priority)
    # Then intake accepts it and the bus routes it to that priority's queue, and only there
    accepted = accepted_on(local_stack, priority, correlation_id)
    assert (accepted.priority, accepted.priority_source) == (priority, "upstream")
    nowhere_else(local_stack, priority, correlation_id)


@pytest.mark.parametrize(
    ("sample", "derived"),
    [("tickets/T-2003.json", "high"), ("tickets/T-2001.json", "normal"), ("tickets/T-2007.json", "low")],
)
def test_ticket_without_priority_gets_a_derived_one(local_stack: EmulatedStack, sample: str, derived: str) -> None:
    # Given a ticket whose upstream set no priority
    assert "priority" not in load_event(EVENTS / sample)["detail"]
    # When it is submitted
    correlation_id = submit(local_stack, sample)
    # Then intake derives the priority from the content, says why, and it is routed by it
    accepted = accepted_on(local_stack, derived, correlation_id)
    assert accepted.priority_source == "derived"
    assert accepted.priority_reasons or derived == "normal"


def test_pii_never_reaches_the_accepted_event(local_stack: EmulatedStack) -> None:
    # Given tickets full of emails, card and phone numbers
    first = submit(local_stack, "TicketSubmitted.json")
    second = submit(local_stack, "tickets/T-2003.json")
    # When intake accepts them, Then the events on the queues carry placeholders and counts, no PII
    for correlation_id, priority in ((first, "high"), (second, "high")):
        accepted = accepted_on(local_stack, priority, correlation_id)
        published = accepted.model_dump_json()
        assert not [value for value in PII if value in published]
        assert accepted.redactions.get("card") == 1 and accepted.redactions.get("phone") == 1
        assert "[CARD]" in accepted.body and "[PHONE]" in accepted.body


def test_poison_message_lands_in_the_dlq_while_its_batch_mate_succeeds(local_stack: EmulatedStack) -> None:
    # Given one good ticket and one message that is not an EventBridge event, sent in one batch
    sqs = local_stack.clients.sqs
    good = load_event(EVENTS / "tickets/T-2005.json")
    correlation_id = f"T-{uuid.uuid4().hex[:10]}"
    good["id"] = str(uuid.uuid4())
    good["detail"].update(event_id=str(uuid.uuid4()), correlation_id=correlation_id, ticket_id=correlation_id)
    poison = f"poison-{uuid.uuid4().hex}: not json"
    sqs.send_message_batch(
        QueueUrl=local_stack.physical_id("IntakeQueue"),
        Entries=[{"Id": "good", "MessageBody": json.dumps(good)}, {"Id": "poison", "MessageBody": poison}],
    )
    # Then the good one is accepted (high: an enterprise customer locked out)
    assert accepted_on(local_stack, "high", correlation_id).ticket_id == correlation_id
    # And the poison one ends in the intake DLQ after the template's maxReceiveCount receives
    dlq_url = local_stack.physical_id("IntakeDeadLetterQueue")
    (dead,) = take_messages(sqs, dlq_url, lambda message: message.body == poison, timeout=60)
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=local_stack.physical_id("IntakeQueue"), AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]["RedrivePolicy"]
    )
    assert dead.receive_count >= int(redrive["maxReceiveCount"]) == 3
