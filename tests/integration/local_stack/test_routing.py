"""The template's EventBridge rules route the sample events through the real emulator."""

from __future__ import annotations

import json

import pytest

from supportflow.local import EmulatedStack
from supportflow.local.observe import is_bus_event, load_event, peek_messages, put_bus_event, take_messages
from tests.constants import EVENTS_DIR

pytestmark = pytest.mark.integration

EVENTS = EVENTS_DIR
SUBMITTED_SAMPLES = sorted([EVENTS / "TicketSubmitted.json", *(EVENTS / "tickets").glob("*.json")])
PRIORITY_QUEUES = {"high": "HighPriorityQueue", "normal": "NormalPriorityQueue", "low": "LowPriorityQueue"}


def test_every_ticket_submitted_sample_reaches_the_intake_queue(local_stack: EmulatedStack) -> None:
    # Given the intake worker paused, so the intake queue keeps what arrives
    assert len(SUBMITTED_SAMPLES) > 1
    sqs, bus = local_stack.clients.sqs, local_stack.physical_id("EventBus")
    with local_stack.paused("IntakeFunction"):
        # When every TicketSubmitted sample is put on the bus
        sent = {put_bus_event(local_stack.clients.events, bus, load_event(path)): path for path in SUBMITTED_SAMPLES}
        # Then each arrives on the intake queue exactly as EventBridge delivers it
        taken = take_messages(
            sqs,
            local_stack.physical_id("IntakeQueue"),
            lambda m: m.json.get("id") in sent,
            expected=len(sent),
            timeout=10,
        )
    assert sorted(m.json["id"] for m in taken) == sorted(sent)
    for message in taken:
        delivered = message.json
        assert delivered["detail-type"] == "TicketSubmitted"
        assert delivered["source"] == load_event(sent[delivered["id"]])["source"]
        assert delivered["detail"] == load_event(sent[delivered["id"]])["detail"]


@pytest.mark.parametrize("priority", sorted(PRIORITY_QUEUES))
def test_ticket_accepted_reaches_exactly_its_priority_queue(
    local_stack: EmulatedStack, priority: str, unique_id: str
) -> None:
    # Given the TicketAccepted sample with this priority
    sample = load_event(EVENTS / "TicketAccepted.json")
    sqs = local_stack.clients.sqs
    with local_stack.paused(*PRIORITY_QUEUES.values()):
        # When it is put on the bus
        event_id = put_bus_event(
            local_stack.clients.events,
            local_stack.physical_id("EventBus"),
            sample,
            {"priority": priority, "correlation_id": f"T-{unique_id}"},
        )
        # Then it is on its priority queue, and on no other
        expected_queue = local_stack.physical_id(PRIORITY_QUEUES[priority])
        (message,) = take_messages(sqs, expected_queue, is_bus_event(event_id), timeout=5)
        for other, logical_id in PRIORITY_QUEUES.items():
            if other != priority:
                assert not peek_messages(sqs, local_stack.physical_id(logical_id), is_bus_event(event_id))
    assert message.json["detail"]["priority"] == priority
    # ... and not on the intake queue or the ops path either
    assert not peek_messages(sqs, local_stack.physical_id("IntakeDeadLetterQueue"), is_bus_event(event_id))


def test_ticket_rejected_reaches_ops_topic_subscribers_through_the_bridge(
    local_stack: EmulatedStack, unique_id: str
) -> None:
    # Given an SQS queue subscribed to the ops topic
    sqs, sns = local_stack.clients.sqs, local_stack.clients.sns
    queue_url = sqs.create_queue(QueueName=f"ops-subscriber-{unique_id}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=local_stack.physical_id("OpsTopic"), Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    try:
        # When a TicketRejected is put on the bus
        sample = load_event(EVENTS / "TicketRejected.json")
        event_id = put_bus_event(
            local_stack.clients.events,
            local_stack.physical_id("EventBus"),
            sample,
            {"correlation_id": f"T-{unique_id}"},
        )

        # Then the subscriber gets an SNS notification whose message is the EventBridge event
        def is_notification(message: object) -> bool:
            body = getattr(message, "json", None)
            return isinstance(body, dict) and json.loads(body.get("Message", "{}")).get("id") == event_id

        (notification,) = take_messages(sqs, queue_url, is_notification, timeout=10)
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
    envelope = notification.json
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == local_stack.physical_id("OpsTopic")
    event = json.loads(envelope["Message"])
    assert event["detail-type"] == "TicketRejected"
    assert event["detail"]["correlation_id"] == f"T-{unique_id}"
