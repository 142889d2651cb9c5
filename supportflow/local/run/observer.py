"""Taps a running local stack for the run report: every bus event, every SNS message, the DLQs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from supportflow.local.observe import ReceivedMessage, peek_messages
from supportflow.local.stack import EmulatedStack

# Messages taken from a tap queue per watch-loop turn, so progress and decisions keep their pace.
DRAIN_MOST = 300


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

    def bus_events(self, most: int = DRAIN_MOST) -> Iterator[tuple[dict[str, Any], datetime | None]]:
        """Events that crossed the bus since the last call (up to ``most``), each with when the bus delivered it."""
        for message in self._drain(self.tap_url, most):
            if isinstance(message.json, dict):
                yield message.json, delivered_at(message)

    def _drain(self, url: str, most: int = DRAIN_MOST) -> Iterator[ReceivedMessage]:
        """Take what the queue holds now, up to ``most``: ten per receive, deleted ten per request.

        A run with escalations puts ~20 events per ticket on the bus; one delete per message would
        cost the busy emulator eleven requests per ten events and stall the watch loop for minutes.
        """
        sqs = self.stack.clients.sqs
        taken = 0
        while taken < most:
            response = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageSystemAttributeNames=["All"]
            )
            raw_messages = response.get("Messages") or []
            if not raw_messages:
                return
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(raw_messages)],
            )
            for raw in raw_messages:
                attributes = {str(k): str(v) for k, v in (raw.get("Attributes") or {}).items()}
                taken += 1
                yield ReceivedMessage(
                    queue_url=url,
                    message_id=raw["MessageId"],
                    body=raw.get("Body", ""),
                    receive_count=int(attributes.get("ApproximateReceiveCount", "0")),
                    attributes=attributes,
                )

    def notifications(self, most: int = DRAIN_MOST) -> Iterator[Notification]:
        """SNS messages published since the last call (up to ``most``)."""
        for message in self._drain(self.sns_url, most):
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
