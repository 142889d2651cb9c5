"""Taps a running local stack for the run report: every bus event, every SNS message, the DLQs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from supportflow.local.observe import ReceivedMessage, peek_messages, take_messages
from supportflow.local.stack import EmulatedStack


@dataclass(frozen=True)
class Notification:
    """An SNS message read back: the topic's audience, SNS message id and the JSON message."""

    audience: str
    message_id: str
    payload: dict[str, Any]
    attributes: dict[str, str]


class Observer:
    """An extra bus rule into a queue of its own, an SQS subscription on every topic, and the DLQs."""

    def __init__(self, stack: EmulatedStack) -> None:
        self.stack = stack
        sqs = stack.clients.sqs
        name = f"{stack.stack_name}-observer"
        self.tap_url = sqs.create_queue(QueueName=f"{name}-tap")["QueueUrl"]
        bus = stack.physical_id("EventBus")
        # Every event on the bus; not part of the template, created only for the report.
        stack.clients.events.put_rule(Name=f"{name}-tap", EventBusName=bus, EventPattern=json.dumps({"version": ["0"]}))
        stack.clients.events.put_targets(
            Rule=f"{name}-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn(stack, self.tap_url)}]
        )
        self.sns_url = sqs.create_queue(QueueName=f"{name}-sns")["QueueUrl"]
        self.audiences: dict[str, str] = {}
        for info in stack.resources.values():
            if info.type == "AWS::SNS::Topic" and info.physical_id:
                topic_arn = str(info.physical_id)
                self.audiences[topic_arn] = info.logical_id.removesuffix("Topic").lower()
                stack.clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn(stack, self.sns_url))
        self.dead_letter_queues = dead_letter_queues(stack)

    def bus_events(self) -> Iterator[tuple[dict[str, Any], datetime | None]]:
        """Events that crossed the bus since the last call, each with when the bus delivered it."""
        for message in take_messages(self.stack.clients.sqs, self.tap_url, _any, expected=1000, timeout=0):
            if isinstance(message.json, dict):
                yield message.json, delivered_at(message)

    def notifications(self) -> Iterator[Notification]:
        """SNS messages published since the last call."""
        for message in take_messages(self.stack.clients.sqs, self.sns_url, _any, expected=1000, timeout=0):
            envelope = message.json if isinstance(message.json, dict) else {}
            try:
                payload = json.loads(envelope.get("Message", ""))
            except ValueError:
                payload = {"raw": envelope.get("Message")}
            attributes = {
                str(name): str(value.get("Value"))
                for name, value in (envelope.get("MessageAttributes") or {}).items()
                if isinstance(value, dict)
            }
            yield Notification(
                audience=self.audiences.get(str(envelope.get("TopicArn")), "?"),
                message_id=str(envelope.get("MessageId") or message.message_id),
                payload=payload if isinstance(payload, dict) else {"raw": payload},
                attributes=attributes,
            )

    def dead_letters(self) -> Iterator[tuple[str, ReceivedMessage]]:
        """(DLQ logical id, message) for every message now in a DLQ; they stay there."""
        for logical_id, url in self.dead_letter_queues.items():
            for message in peek_messages(self.stack.clients.sqs, url, _any):
                yield logical_id, message


def _any(_message: ReceivedMessage) -> bool:
    return True


def delivered_at(message: ReceivedMessage) -> datetime | None:
    """When the bus delivered the event to the tap: the message's SentTimestamp (ms), else the event's ``time``.

    EventBridge's ``time`` has whole seconds only, too coarse for a stage of a few milliseconds.
    """
    sent = message.attributes.get("SentTimestamp")
    if sent and sent.isdigit():
        return datetime.fromtimestamp(int(sent) / 1000.0, tz=UTC)
    body = message.json if isinstance(message.json, dict) else {}
    try:
        return datetime.fromisoformat(str(body["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None


def queue_arn(stack: EmulatedStack, url: str) -> str:
    """The ARN of a queue of the stack's emulator."""
    attributes = stack.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def dead_letter_queues(stack: EmulatedStack) -> dict[str, str]:
    """DLQ logical id -> URL: every template queue a RedrivePolicy points at, or named a dead-letter queue."""
    arns = {
        info.attributes.get("Arn"): info.logical_id
        for info in stack.resources.values()
        if info.type == "AWS::SQS::Queue"
    }
    found = {}
    for info in stack.resources.values():
        if info.type != "AWS::SQS::Queue" or info.physical_id is None:
            continue
        if info.logical_id.endswith("DeadLetterQueue"):
            found[info.logical_id] = str(info.physical_id)
        attributes = stack.clients.sqs.get_queue_attributes(
            QueueUrl=info.physical_id, AttributeNames=["RedrivePolicy"]
        ).get("Attributes", {})
        if "RedrivePolicy" in attributes:
            target = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
            if target in arns:
                found[arns[target]] = stack.physical_id(arns[target])
    return found
