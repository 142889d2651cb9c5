"""The notifications worker on the embedded stack: real TicketAnalyzed events in, SNS messages read back.

The test subscribes a queue of its own to the agents topic, filtered on the event's ``event_id`` attribute
(as an agent's subscription would filter), and reads what the agents were sent, with its attributes.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from schemas.events import TicketAnalyzed
from supportflow.local import EmulatedStack
from supportflow.local.observe import ReceivedMessage, load_event, put_bus_event, queue_depth, take_messages

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"
DRAIN_TIMEOUT_SECONDS = 30.0


@contextmanager
def agents_subscription(stack: EmulatedStack, event_id: str) -> Iterator[str]:
    """A queue of the test's own, subscribed to the agents topic with a filter policy on ``event_id``.

    The topic's shared local tap holds every earlier test's notifications; a filtered subscription of
    its own sees only what announces this event, as an agent's subscription filtering on an attribute would.
    """
    sqs, sns = stack.clients.sqs, stack.clients.sns
    queue_url = sqs.create_queue(QueueName=f"it-agents-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=stack.physical_id("AgentsTopic"),
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicy": json.dumps({"event_id": [event_id]})},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    try:
        yield queue_url
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)


def about_event(event_id: str) -> Any:
    """Predicate: an SNS envelope announcing this event (its ``event_id`` attribute).

    An escalated ticket also starts the escalation, whose EscalationRequested and ApprovalRequested reach
    the agents too: the test counts only what announces its own TicketAnalyzed.
    """

    def match(message: ReceivedMessage) -> bool:
        envelope = message.json
        if not isinstance(envelope, dict):
            return False
        attribute = (envelope.get("MessageAttributes") or {}).get("event_id") or {}
        return bool(attribute.get("Value") == event_id)

    return match


def drained(stack: EmulatedStack) -> None:
    """Wait until the notify queue holds nothing visible or in flight."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while queue_depth(stack.clients.sqs, stack.physical_id("NotifyQueue")) != (0, 0):
        assert time.monotonic() < deadline, "the notify queue did not drain"
        time.sleep(0.2)


def test_an_escalated_ticket_delivered_twice_notifies_the_agents_once(
    local_stack: EmulatedStack, unique_id: str
) -> None:
    # Given an escalated, high-priority analysed ticket
    ticket_id = f"T-{unique_id}"
    sample = load_event(EVENTS / "TicketAnalyzed.json")
    detail = {
        "event_id": f"analyzed-{unique_id}",
        "correlation_id": ticket_id,
        "ticket_id": ticket_id,
        "needs_escalation": True,
        "escalation_reasons": ["legal threat"],
    }
    TicketAnalyzed.from_detail({**sample["detail"], **detail})
    announces_it = about_event(f"analyzed-{unique_id}")
    with agents_subscription(local_stack, f"analyzed-{unique_id}") as tap:
        # When the bus delivers it twice (an upstream retry)
        bus = local_stack.physical_id("EventBus")
        put_bus_event(local_stack.clients.events, bus, sample, detail)
        put_bus_event(local_stack.clients.events, bus, sample, detail)
        # Then the agents topic carries one message about it, filterable by priority, tenant and event type
        (message,) = take_messages(local_stack.clients.sqs, tap, announces_it, expected=1, timeout=60)
        envelope = message.json
        attributes = {name: value["Value"] for name, value in envelope["MessageAttributes"].items()}
        assert attributes == {
            "event_type": "TicketAnalyzed",
            "event_id": f"analyzed-{unique_id}",
            "tenant": "acme",
            "audience": "agents",
            "priority": "high",
        }
        body = json.loads(envelope["Message"])
        assert body["escalation_reasons"] == ["legal threat"] and "customer_id" not in body
        # And once both deliveries are handled, still only that one
        drained(local_stack)
        assert take_messages(local_stack.clients.sqs, tap, announces_it, timeout=1) == []
