"""Lambda's side of the SQS event source mapping: the event and context it builds, the response it reads."""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from workers.shared.runtime.consumer_config import ConsumerConfig

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

Handler = Callable[[dict[str, Any], Any], Any]
# Lambda copies these system attributes into each record's ``attributes`` when SQS returns them.
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


class LambdaContext:
    """The parts of the Lambda context object handlers and Powertools read."""

    def __init__(self, config: ConsumerConfig, region: str, deadline: float) -> None:
        self.function_name = config.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = config.function_arn or (
            f"arn:aws:lambda:{region}:000000000000:function:{config.function_name}"
        )
        self.memory_limit_in_mb = config.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{config.function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event_record(message: MessageTypeDef, event_source_arn: str, region: str) -> dict[str, Any]:
    """Build one record of the Lambda SQS event from a ReceiveMessage message."""
    system = message.get("Attributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {name: system[name] for name in _RECORD_ATTRIBUTES if name in system},
        "messageAttributes": {
            name: _record_message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        **(
            {"md5OfMessageAttributes": message["MD5OfMessageAttributes"]}
            if message.get("MD5OfMessageAttributes")
            else {}
        ),
        "eventSource": "aws:sqs",
        "eventSourceARN": event_source_arn,
        "awsRegion": region,
    }


def _record_message_attribute(value: Any) -> dict[str, Any]:
    import base64  # noqa: PLC0415 - only for binary attributes

    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues") or []],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def failed_message_ids(response: Any, message_ids: Sequence[str]) -> set[str]:
    """Which messages failed, per ReportBatchItemFailures; a malformed response fails the whole batch."""
    if response is None:
        return set()
    if not isinstance(response, dict) or "batchItemFailures" not in response:
        return set()
    failures = response["batchItemFailures"]
    if failures is None:
        return set()
    known = set(message_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in known:
            # Lambda treats an empty or unknown itemIdentifier as a failure of the whole batch.
            return set(message_ids)
        failed.add(identifier)
    return failed


def load_handler(dotted: str) -> Handler:
    """Import ``package.module.function`` and return the function."""
    module_name, _, attribute = dotted.rpartition(".")
    if not module_name:
        msg = f"handler {dotted!r} must be module.function"
        raise ValueError(msg)
    handler = getattr(importlib.import_module(module_name), attribute)
    if not callable(handler):
        msg = f"handler {dotted!r} is not callable"
        raise TypeError(msg)
    return handler  # type: ignore[no-any-return]
