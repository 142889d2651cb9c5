"""Handlers the consumer tests run in a real consumer process: they report what they saw to an SQS queue."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


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
