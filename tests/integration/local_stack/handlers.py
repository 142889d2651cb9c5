"""Handlers the consumer tests run in a real consumer process: they report what they saw to an SQS queue."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import boto3

from schemas import BusEvent, TicketSubmitted
from schemas.envelope import Event
from tests.unit.fakes import InMemoryIdempotencyStore
from workers.intake.wiring import build_app
from workers.shared.runtime.worker import WorkerApp, sqs_bus_worker
from workers.shared.settings import IdempotentWorkerSettings


def poison_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fail every record whose body contains "poison"; send the event and context seen to $CAPTURE_QUEUE_URL."""
    capture = {
        "event": event,
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
        "environment": {"CUSTOM_SETTING": os.environ.get("CUSTOM_SETTING")},
    }
    boto3.client("sqs").send_message(QueueUrl=os.environ["CAPTURE_QUEUE_URL"], MessageBody=json.dumps(capture))
    failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "poison" in r["body"]]
    return {"batchItemFailures": failures}


def raising_handler(event: dict[str, Any], context: Any) -> None:
    """Raise on any batch that holds a "poison" record (the whole batch must then stay), else succeed."""
    boto3.client("sqs").send_message(QueueUrl=os.environ["CAPTURE_QUEUE_URL"], MessageBody=json.dumps({"event": event}))
    if any("poison" in r["body"] for r in event["Records"]):
        raise RuntimeError("poison in batch")


class QueuePublisher:
    """The publisher port, sending each emitted event to $CAPTURE_QUEUE_URL instead of the bus."""

    def __init__(self, queue_url: str) -> None:
        self._queue_url = queue_url
        self._sqs = boto3.client("sqs")

    def publish(self, events: Sequence[Event]) -> None:
        """Send every event, typed and in full."""
        for event in events:
            emitted = {"emitted": {"detail_type": event.detail_type, "detail": event.model_dump(mode="json")}}
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(emitted))


def build_capturing_intake() -> WorkerApp[BusEvent]:
    """Intake's real wiring with its events captured and its idempotency kept in this process."""
    settings = IdempotentWorkerSettings(event_bus_name="captured", idempotency_table_name="in-memory")
    publisher = QueuePublisher(os.environ["CAPTURE_QUEUE_URL"])
    return build_app(settings, publisher=publisher, persistence=InMemoryIdempotencyStore())


capturing_intake = sqs_bus_worker(consumes=TicketSubmitted, build=build_capturing_intake)


def recording_intake(event: dict[str, Any], context: Any) -> Any:
    """Run intake on the batch, then send the SQS event and the partial-failure report to $CAPTURE_QUEUE_URL."""
    response = capturing_intake(event, context)
    report = {"event": event, "response": response}
    boto3.client("sqs").send_message(QueueUrl=os.environ["CAPTURE_QUEUE_URL"], MessageBody=json.dumps(report))
    return response
