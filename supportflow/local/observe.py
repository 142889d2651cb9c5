"""Put sample events on the bus and watch queues for what comes out (tests, ``supportflow run``, benchmarks)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef


PASSED_OVER_VISIBILITY_SECONDS = 30


@dataclass(frozen=True)
class ReceivedMessage:
    """A message taken off a queue, with its body parsed as JSON when it is JSON."""

    queue_url: str
    message_id: str
    body: str
    receive_count: int
    attributes: dict[str, str]

    @property
    def json(self) -> Any:
        """The body as JSON (None if it is not)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def load_event(path: Path) -> dict[str, Any]:
    """Read an EventBridge-shaped sample event."""
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def put_bus_event(
    events: EventBridgeClient,
    bus_name: str,
    sample: Mapping[str, Any],
    detail_overrides: Mapping[str, Any] | None = None,
) -> str:
    """PutEvents one EventBridge-shaped sample onto ``bus_name``; return the EventId the bus assigned."""
    detail = {**sample["detail"], **(detail_overrides or {})}
    result = events.put_events(
        Entries=[
            {
                "EventBusName": bus_name,
                "Source": sample["source"],
                "DetailType": sample["detail-type"],
                "Detail": json.dumps(detail),
                "Resources": list(sample.get("resources") or []),
            }
        ]
    )
    entry = result["Entries"][0]
    if result.get("FailedEntryCount") or "EventId" not in entry:
        msg = f"PutEvents rejected the event: {entry}"
        raise RuntimeError(msg)
    return entry["EventId"]


def take_messages(
    sqs: SQSClient,
    queue_url: str,
    predicate: Callable[[ReceivedMessage], bool],
    *,
    expected: int = 1,
    timeout: float = 10.0,
) -> list[ReceivedMessage]:
    """Take (receive and delete) up to ``expected`` messages matching ``predicate`` within ``timeout``.

    Others are left on the queue, so tests sharing a queue only take their own (unique ids keep them
    apart). They stay hidden while the scan goes on (a queue returns its oldest messages first: made
    visible at once, the same ten would come back on every receive and hide a match behind them) and are
    made visible again when it ends.
    """
    found: list[ReceivedMessage] = []
    seen: set[str] = set()
    passed_over: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected:
            wait = max(0, min(1, int(deadline - time.monotonic())))
            fresh = False
            for message, receipt in _receive(sqs, queue_url, wait):
                fresh = fresh or message.message_id not in seen
                seen.add(message.message_id)
                if predicate(message) and len(found) < expected:
                    found.append(message)
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
                else:
                    passed_over.append(receipt)
            # Past the deadline, keep going only while the queue still shows messages not seen before.
            if time.monotonic() >= deadline and not fresh:
                break
    finally:
        _release(sqs, queue_url, passed_over)
    return found


def _release(sqs: SQSClient, queue_url: str, receipts: list[str]) -> None:
    """Make passed-over messages visible again (best effort: else they reappear after their short timeout)."""
    for start in range(0, len(receipts), 10):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
            for index, receipt in enumerate(receipts[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)


def peek_messages(
    sqs: SQSClient, queue_url: str, predicate: Callable[[ReceivedMessage], bool]
) -> list[ReceivedMessage]:
    """Matching messages visible on the queue now; every message is left in place (visible again)."""
    held: list[tuple[ReceivedMessage, str]] = []
    while True:
        batch = list(_receive(sqs, queue_url, 0))
        if not batch:
            break
        held.extend(batch)
    _release(sqs, queue_url, [receipt for _message, receipt in held])
    return [message for message, _receipt in held if predicate(message)]


def _receive(sqs: SQSClient, queue_url: str, wait_seconds: int) -> Iterable[tuple[ReceivedMessage, str]]:
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_seconds,
        # Long enough to outlast a scan's receives; a scan releases what it passed over when it ends.
        VisibilityTimeout=PASSED_OVER_VISIBILITY_SECONDS,
        MessageSystemAttributeNames=["All"],
    )
    for raw in response.get("Messages") or []:
        attributes = dict(raw.get("Attributes") or {})
        yield (
            ReceivedMessage(
                queue_url=queue_url,
                message_id=raw["MessageId"],
                body=raw.get("Body", ""),
                receive_count=int(attributes.get("ApproximateReceiveCount", "0")),
                attributes=attributes,  # type: ignore[arg-type]
            ),
            raw["ReceiptHandle"],
        )


def is_bus_event(event_id: str) -> Callable[[ReceivedMessage], bool]:
    """Predicate: the message is the EventBridge event with this id (as delivered to an SQS target)."""

    def match(message: ReceivedMessage) -> bool:
        body = message.json
        return isinstance(body, dict) and body.get("id") == event_id

    return match


def in_flow(correlation_id: str) -> Callable[[ReceivedMessage], bool]:
    """Predicate: the message is a bus event of this flow (its detail carries the correlation id)."""

    def match(message: ReceivedMessage) -> bool:
        body = message.json
        return isinstance(body, dict) and (body.get("detail") or {}).get("correlation_id") == correlation_id

    return match


def queue_depth(sqs: SQSClient, queue_url: str) -> tuple[int, int]:
    """(visible, in flight) message counts."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])
