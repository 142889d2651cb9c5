"""The queue consumer keeps Lambda's SQS contract: event shape, partial batch failure, redrive to the DLQ."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from schemas import TicketSubmitted
from supportflow.local import EmulatedStack
from supportflow.local.observe import queue_depth, take_messages
from tests.integration.local_stack.handlers import build_capturing_intake
from tests.unit.fakes import FakeLambdaContext
from workers.shared.runtime.worker import sqs_bus_worker

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
    assert [len(c["event"]["Records"]) for c in captures] == [2] * MAX_RECEIVE_COUNT


def test_consumer_exits_cleanly_on_sigterm(local_stack: EmulatedStack, unique_id: str) -> None:
    # Given an idle consumer in a long poll
    url, _arn, _dlq = _queue_pair(local_stack, f"idle-{unique_id}")
    worker = local_stack.start_consumer(f"idle-{unique_id}", url, f"{HANDLERS}.poison_handler")
    # When it gets SIGTERM, Then it finishes its poll and exits 0 (a hung one would be SIGKILLed: -9)
    local_stack.stop_consumer(f"idle-{unique_id}")
    assert worker.process is not None
    assert worker.process.returncode == 0


def _emitted(captures: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Emitted events as (detail-type, detail), without the time each run stamped on it."""
    events = [c["emitted"] for c in captures if "emitted" in c]
    return sorted((e["detail_type"], {k: v for k, v in e["detail"].items() if k != "occurred_at"}) for e in events)


def test_lambda_handler_and_ecs_consumer_run_the_same_worker_to_the_same_outcome(
    local_stack: EmulatedStack,
    unique_id: str,
    load_event: Callable[[str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given intake's wiring with captured output, served by the ECS entry point (the consumer) on a real queue
    sqs = local_stack.clients.sqs
    url, _arn, dlq_url = _queue_pair(local_stack, f"same-{unique_id}")
    ecs_capture = sqs.create_queue(QueueName=f"capture-ecs-{unique_id}")["QueueUrl"]
    lambda_capture = sqs.create_queue(QueueName=f"capture-lambda-{unique_id}")["QueueUrl"]
    local_stack.start_consumer(
        f"same-{unique_id}",
        url,
        f"{HANDLERS}.recording_intake",
        environment={"CAPTURE_QUEUE_URL": ecs_capture, "POWERTOOLS_SERVICE_NAME": "intake"},
        batch_size=10,
        batching_window_seconds=1,
        report_batch_item_failures=True,
    )
    try:
        # When a valid ticket, an invalid ticket and a poison message arrive in one batch
        bodies = [json.dumps(load_event("tickets/T-2003")), json.dumps(load_event("tickets/T-2099-invalid")), "{oops"]
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])
        take_messages(sqs, dlq_url, lambda m: m.body == "{oops", timeout=30)
    finally:
        local_stack.stop_consumer(f"same-{unique_id}")
    ecs = [m.json for m in take_messages(sqs, ecs_capture, lambda _m: True, expected=10, timeout=3)]
    (first_batch,) = [c for c in ecs if "event" in c and len(c["event"]["Records"]) == len(bodies)]
    # ... and the same SQS event is handed to the Lambda handler, built in this process from the same wiring
    monkeypatch.setenv("CAPTURE_QUEUE_URL", lambda_capture)
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_stack.endpoint_url)
    lambda_handler = sqs_bus_worker(consumes=TicketSubmitted, build=build_capturing_intake)
    response = lambda_handler(first_batch["event"], FakeLambdaContext())
    in_lambda = [m.json for m in take_messages(sqs, lambda_capture, lambda _m: True, expected=2, timeout=10)]

    # Then both report the same partial failure (only the poison message) ...
    poison_id = next(r["messageId"] for r in first_batch["event"]["Records"] if r["body"] == "{oops")
    assert response == first_batch["response"] == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    # ... and emit the same events: same ids and details (an acceptance and a rejection)
    expected = _emitted(in_lambda)
    assert [detail_type for detail_type, _ in expected] == ["TicketAccepted", "TicketRejected"]
    assert _emitted(ecs) == expected
