"""A queue kept in memory with the SQS calls the consumer makes, and SQS messages to put in it."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:worker"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/worker"


def sqs_message(message_id: str, body: str) -> dict[str, Any]:
    """A ReceiveMessage message as SQS returns it."""
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"rh-{message_id}",
        "Body": body,
        "MD5OfBody": "",
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
    }


class FakeSqs:
    """Hands out the batches it was given, one per receive; records what was deleted and made visible."""

    def __init__(self, batches: Iterable[list[dict[str, Any]]]) -> None:
        self.meta = SimpleNamespace(region_name="us-east-1")
        self.batches = deque(batches)
        self.receives = 0
        self.deleted: list[str] = []
        self.made_visible: list[str] = []

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        """The queue's ARN."""
        return {"Attributes": {"QueueArn": QUEUE_ARN}}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        """The next batch, or nothing."""
        self.receives += 1
        return {"Messages": self.batches.popleft()} if self.batches else {}

    def delete_message_batch(self, **request: Any) -> dict[str, Any]:
        """Delete by receipt handle."""
        self.deleted += [entry["ReceiptHandle"] for entry in request["Entries"]]
        return {"Successful": [{"Id": entry["Id"]} for entry in request["Entries"]], "Failed": []}

    def change_message_visibility_batch(self, **request: Any) -> dict[str, Any]:
        """Make visible again by receipt handle."""
        self.made_visible += [entry["ReceiptHandle"] for entry in request["Entries"]]
        return {"Successful": [{"Id": entry["Id"]} for entry in request["Entries"]], "Failed": []}
