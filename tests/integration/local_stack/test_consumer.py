"""The queue consumer keeps Lambda's SQS contract: event shape, partial batch failure, redrive to the DLQ."""

from __future__ import annotations

import json
from typing import Any

import pytest

from supportflow.local import EmulatedStack
from supportflow.local.observe import queue_depth, take_messages

pytestmark = pytest.mark.integration

HANDLERS = "tests.integration.local_stack.handlers"
MAX_RECEIVE_COUNT = 2
RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "md5OfMessageAttributes",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


def _queue_pair(stack: EmulatedStack, name: str) -> tuple[str, str, str]:
    sqs = stack.clients.sqs
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq_url


def _captures(stack: EmulatedStack, capture_url: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    messages = take_messages(stack.clients.sqs, capture_url, lambda _m: True, expected=count, timeout=timeout)
    return [m.json for m in messages]


def test_partial_batch_failure_deletes_good_and_redrives_poison_to_dlq(
    local_stack: EmulatedStack, unique_id: str
) -> None:
    # Given a queue with a DLQ after 2 receives, and a consumer that fails records saying "poison"
    sqs = local_stack.clients.sqs
    url, arn, dlq_url = _queue_pair(local_stack, f"consumer-{unique_id}")
    capture_url = sqs.create_queue(QueueName=f"capture-{unique_id}")["QueueUrl"]
    local_stack.start_consumer(
        f"poison-{unique_id}",
        url,
        f"{HANDLERS}.poison_handler",
        function_name=f"poison-{unique_id}",
        environment={"CAPTURE_QUEUE_URL": capture_url, "CUSTOM_SETTING": "from-template"},
        batch_size=10,
        batching_window_seconds=1,
        report_batch_item_failures=True,
    )
    try:
        # When a good and a poison message arrive together (one with a message attribute)
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": "good",
                    "MessageBody": f"good {unique_id}",
                    "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "good"}},
                },
                {"Id": "bad", "MessageBody": f"poison {unique_id}"},
            ],
        )
        # Then the poison message ends in the DLQ after maxReceiveCount deliveries
        in_dlq = take_messages(sqs, dlq_url, lambda m: "poison" in m.body, timeout=30)
        assert [m.body for m in in_dlq] == [f"poison {unique_id}"]
        captures = _captures(local_stack, capture_url, MAX_RECEIVE_COUNT)
    finally:
        local_stack.stop_consumer(f"poison-{unique_id}")

    # ... the good one was delivered once and deleted; the poison one delivered exactly twice
    bodies = [[r["body"] for r in c["event"]["Records"]] for c in captures]
    assert bodies[0] == [f"good {unique_id}", f"poison {unique_id}"]
    assert bodies[1:] == [[f"poison {unique_id}"]]
    assert queue_depth(sqs, url) == (0, 0)
    # ... and every record has the exact Lambda SQS event shape
    first = captures[0]["event"]["Records"]
    for record in first:
        assert set(record) <= RECORD_KEYS
        assert RECORD_KEYS - set(record) <= {"md5OfMessageAttributes"}
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == arn
        assert record["awsRegion"] == local_stack.region
        assert set(record["attributes"]) >= {
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
        }
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert first[0]["messageAttributes"] == {
        "kind": {"stringValue": "good", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert first[1]["messageAttributes"] == {}
    assert captures[1]["event"]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    context = captures[0]["context"]
    assert context["function_name"] == f"poison-{unique_id}"
    assert context["invoked_function_arn"].endswith(f":function:poison-{unique_id}")
    assert 0 < context["remaining_ms"] <= 30_000
    assert captures[0]["environment"] == {"CUSTOM_SETTING": "from-template"}


def test_handler_exception_leaves_the_whole_batch(local_stack: EmulatedStack, unique_id: str) -> None:
    # Given a consumer whose handler raises on any batch holding a poison record
    sqs = local_stack.clients.sqs
    url, _arn, dlq_url = _queue_pair(local_stack, f"raising-{unique_id}")
    capture_url = sqs.create_queue(QueueName=f"capture-r-{unique_id}")["QueueUrl"]
    local_stack.start_consumer(
        f"raising-{unique_id}",
        url,
        f"{HANDLERS}.raising_handler",
        environment={"CAPTURE_QUEUE_URL": capture_url},
        batch_size=10,
        batching_window_seconds=1,
    )
    try:
        # When a good and a poison message arrive in one batch
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": "good", "MessageBody": "good"}, {"Id": "bad", "MessageBody": "poison"}],
        )
        # Then both stay and both reach the DLQ: a raised exception fails the whole batch
        in_dlq = take_messages(sqs, dlq_url, lambda _m: True, expected=2, timeout=30)
    finally:
        local_stack.stop_consumer(f"raising-{unique_id}")
    assert sorted(m.body for m in in_dlq) == ["good", "poison"]
    captures = _captures(local_stack, capture_url, MAX_RECEIVE_COUNT)
    assert all(len(c["event"]["Records"]) == 2 for c in captures)


def test_consumer_exits_cleanly_on_sigterm(local_stack: EmulatedStack, unique_id: str) -> None:
    # Given an idle consumer in a long poll
    url, _arn, _dlq = _queue_pair(local_stack, f"idle-{unique_id}")
    worker = local_stack.start_consumer(f"idle-{unique_id}", url, f"{HANDLERS}.poison_handler")
    # When it gets SIGTERM, Then it finishes its poll and exits 0 (a hung one would be SIGKILLed: -9)
    local_stack.stop_consumer(f"idle-{unique_id}")
    assert worker.process is not None
    assert worker.process.returncode == 0
