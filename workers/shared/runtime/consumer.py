"""Long-polling SQS consumer that invokes a Lambda handler with the exact Lambda SQS event.

The ECS entry point of every SQS worker, and what the local stack runs per function (in its own
process, with the function's environment)::

    python -m workers.shared.runtime.consumer --queue-url URL --handler workers.intake.handler.lambda_handler

It follows the Lambda event source mapping semantics: BatchSize, MaximumBatchingWindowInSeconds,
ReportBatchItemFailures (delete what succeeded, leave what failed; a raised exception leaves the
whole batch), so SQS redrives to the DLQ after maxReceiveCount exactly as with Lambda.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import random
import signal
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from workers.shared.runtime.logs import configure_json_logging

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, ReceiveMessageRequestTypeDef

logger = logging.getLogger("supportflow.consumer")

Handler = Callable[[dict[str, Any], Any], Any]
ENTRY_MODULE = "workers.shared.runtime.consumer"
SQS_MAX_RECEIVE = 10
SQS_MAX_WAIT_SECONDS = 20
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


@dataclass(frozen=True)
class ConsumerConfig:
    """How one consumer polls and invokes (the event source mapping plus the function's settings)."""

    queue_url: str
    handler: str
    function_name: str = "consumer"
    function_arn: str | None = None
    event_source_arn: str | None = None
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    timeout_seconds: int = 30
    memory_mb: int = 128
    # Also the worst-case stop latency (SIGTERM lets the current poll finish).
    wait_time_seconds: int = SQS_MAX_WAIT_SECONDS
    # None leaves failed messages invisible for the queue's VisibilityTimeout, as Lambda does.
    retry_delay_seconds: int | None = None
    # None keeps the queue's VisibilityTimeout on receive (AWS behaviour). Locally shorter, so the batch
    # a killed consumer held comes back soon instead of after minutes.
    receive_visibility_seconds: int | None = None
    event_shape: str = "sqs"
    ready_file: Path | None = None
    # Locally: stop when the stack that spawned us is gone (even if it was SIGKILLed).
    parent_pid: int | None = None

    @classmethod
    def from_argv(cls, argv: Sequence[str] | None = None) -> ConsumerConfig:
        """Parse a command line (unset options fall back to the environment an ECS task sets)."""
        return _parse_args(argv)

    def to_argv(self) -> list[str]:
        """The command-line options that :meth:`from_argv` turns back into this config."""
        argv = [
            "--queue-url",
            self.queue_url,
            "--handler",
            self.handler,
            "--function-name",
            self.function_name,
            "--batch-size",
            str(self.batch_size),
            "--batching-window",
            str(self.batching_window_seconds),
            "--report-batch-item-failures" if self.report_batch_item_failures else "--no-report-batch-item-failures",
            "--timeout",
            str(self.timeout_seconds),
            "--memory",
            str(self.memory_mb),
            "--wait-time",
            str(self.wait_time_seconds),
            "--event-shape",
            self.event_shape,
        ]
        optional = {
            "--function-arn": self.function_arn,
            "--event-source-arn": self.event_source_arn,
            "--retry-delay": self.retry_delay_seconds,
            "--receive-visibility": self.receive_visibility_seconds,
            "--ready-file": self.ready_file,
            "--parent-pid": self.parent_pid,
        }
        for flag, value in optional.items():
            if value is not None:
                argv += [flag, str(value)]
        return argv

    def command_line(self, python: str = sys.executable) -> list[str]:
        """The full command that runs this consumer: ``python -m workers.shared.runtime.consumer ...``."""
        return [python, "-m", ENTRY_MODULE, *self.to_argv()]


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


class _StopPolling(BaseException):
    """Raised from the signal handler to cut a backoff sleep short.

    A BaseException, like KeyboardInterrupt, so nothing that catches Exception swallows it.
    """


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


class QueueConsumer:
    """Poll one queue, invoke the handler per batch, settle the messages as Lambda would."""

    def __init__(self, config: ConsumerConfig, handler: Handler, sqs: SQSClient) -> None:
        self.config = config
        self.handler = handler
        self.sqs = sqs
        self.region = sqs.meta.region_name
        self.event_source_arn = config.event_source_arn or ""
        self._stop_requested = False
        self._sleeping = False
        self._backoff = 0.0

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM / SIGINT: the current poll and batch finish, a backoff sleep ends now."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("stop requested", extra={"signal": signal.Signals(signum).name})
        self._stop_requested = True
        if self._sleeping:
            raise _StopPolling

    def request_stop(self) -> None:
        """Ask the loop to stop after the current batch."""
        self._stop_requested = True

    def run(self) -> None:
        """Poll until stopped."""
        if not self.event_source_arn:
            try:
                self.event_source_arn = self._queue_arn()
            except _StopPolling:
                return
        logger.info(
            "consumer started",
            extra={
                "queue_url": self.config.queue_url,
                "handler": self.config.handler,
                "function_name": self.config.function_name,
                "batch_size": self.config.batch_size,
                "batching_window_seconds": self.config.batching_window_seconds,
                "report_batch_item_failures": self.config.report_batch_item_failures,
                "retry_delay_seconds": self.config.retry_delay_seconds,
            },
        )
        if self.config.ready_file is not None:
            self.config.ready_file.write_text(str(os.getpid()), encoding="utf-8")
        while not self._stop_requested:
            if self._orphaned():
                logger.warning("parent process gone; stopping", extra={"parent_pid": self.config.parent_pid})
                break
            try:
                self.poll_once()
            except _StopPolling:
                break
        logger.info("consumer stopped", extra={"function_name": self.config.function_name})

    def _orphaned(self) -> bool:
        return self.config.parent_pid is not None and os.getppid() != self.config.parent_pid

    def _queue_arn(self) -> str:
        while True:
            try:
                attributes = self.sqs.get_queue_attributes(QueueUrl=self.config.queue_url, AttributeNames=["QueueArn"])[
                    "Attributes"
                ]
                return attributes["QueueArn"]
            except (ClientError, BotoCoreError) as error:
                self._sleep_backoff(error)
                if self._stop_requested or self._orphaned():
                    raise _StopPolling from error

    def poll_once(self) -> int:
        """Receive one batch (honouring the batching window), invoke, settle; return the batch size."""
        messages = self._receive_batch()
        if not messages:
            return 0
        if self.config.event_shape == "eventbridge":
            failed = self._invoke_per_event(messages)
        else:
            failed = self._invoke_batch(messages)
        self._settle(messages, failed)
        return len(messages)

    def _receive_batch(self) -> list[MessageTypeDef]:
        batch: list[MessageTypeDef] = []
        wanted = max(1, self.config.batch_size)
        window_ends: float | None = None
        while len(batch) < wanted and not self._stop_requested:
            if window_ends is None:
                wait = self.config.wait_time_seconds
            else:
                remaining = window_ends - time.monotonic()
                if remaining <= 0:
                    break
                wait = max(1, min(SQS_MAX_WAIT_SECONDS, round(remaining)))
            received = self._receive(min(SQS_MAX_RECEIVE, wanted - len(batch)), wait)
            batch.extend(received)
            if not batch:
                return batch
            if window_ends is None:
                if self.config.batching_window_seconds <= 0:
                    break
                window_ends = time.monotonic() + self.config.batching_window_seconds
        return batch

    def _receive(self, count: int, wait_seconds: int) -> list[MessageTypeDef]:
        # A poll is never interrupted: the server would hand its messages to a dead connection and
        # hide them for the whole VisibilityTimeout. Stop latency is therefore at most one poll.
        request: ReceiveMessageRequestTypeDef = {
            "QueueUrl": self.config.queue_url,
            "MaxNumberOfMessages": count,
            "WaitTimeSeconds": wait_seconds,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if self.config.receive_visibility_seconds is not None:
            request["VisibilityTimeout"] = self.config.receive_visibility_seconds
        try:
            response = self.sqs.receive_message(**request)
        except (ClientError, BotoCoreError) as error:
            self._sleep_backoff(error)
            return []
        self._backoff = 0.0
        return list(response.get("Messages") or [])

    def _sleep_backoff(self, error: Exception) -> None:
        # Full-jitter exponential backoff: an unreachable endpoint is not hammered, recovery is quick.
        self._backoff = min(30.0, max(0.5, self._backoff * 2))
        delay = random.uniform(0, self._backoff)
        logger.warning(
            "sqs call failed; backing off",
            extra={"error": repr(error), "delay_seconds": round(delay, 2), "queue_url": self.config.queue_url},
        )
        self._sleeping = True
        try:
            time.sleep(delay)
        finally:
            self._sleeping = False

    def _context(self) -> LambdaContext:
        return LambdaContext(self.config, self.region, time.monotonic() + self.config.timeout_seconds)

    def _invoke_batch(self, messages: list[MessageTypeDef]) -> set[str]:
        event = {"Records": [sqs_event_record(m, self.event_source_arn, self.region) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        context = self._context()
        started = time.monotonic()
        try:
            response = self.handler(event, context)
        except Exception:
            logger.exception(
                "handler raised; the whole batch will be retried",
                extra={
                    "function_name": self.config.function_name,
                    "request_id": context.aws_request_id,
                    "batch_size": len(ids),
                },
            )
            return set(ids)
        elapsed = time.monotonic() - started
        failed = failed_message_ids(response, ids) if self.config.report_batch_item_failures else set()
        log = logger.warning if elapsed > self.config.timeout_seconds else logger.info
        log(
            "batch processed",
            extra={
                "function_name": self.config.function_name,
                "request_id": context.aws_request_id,
                "batch_size": len(ids),
                "failed": len(failed),
                "duration_ms": round(elapsed * 1000, 1),
                "timed_out": elapsed > self.config.timeout_seconds,
            },
        )
        return failed

    def _invoke_per_event(self, messages: list[MessageTypeDef]) -> set[str]:
        failed: set[str] = set()
        for message in messages:
            context = self._context()
            try:
                self.handler(json.loads(message.get("Body", "{}")), context)
            except Exception:
                logger.exception(
                    "handler raised; the event will be retried",
                    extra={"function_name": self.config.function_name, "message_id": message["MessageId"]},
                )
                failed.add(message["MessageId"])
        return failed

    def _settle(self, messages: list[MessageTypeDef], failed: set[str]) -> None:
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        if done:
            self._call_batch(
                "delete",
                [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if retry and self.config.retry_delay_seconds is not None:
            self._call_batch(
                "retry",
                [
                    {
                        "Id": str(i),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": self.config.retry_delay_seconds,
                    }
                    for i, m in enumerate(retry)
                ],
            )

    def _call_batch(self, action: str, entries: list[Any]) -> None:
        try:
            if action == "delete":
                result: Any = self.sqs.delete_message_batch(QueueUrl=self.config.queue_url, Entries=entries)
            else:
                result = self.sqs.change_message_visibility_batch(QueueUrl=self.config.queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            # The messages reappear after their visibility timeout: at-least-once, never lost.
            logger.warning("settling batch failed", extra={"action": action, "error": repr(error)})
            return
        if result.get("Failed"):
            logger.warning("settling batch partly failed", extra={"action": action, "failed": result["Failed"]})


def _parse_args(argv: Sequence[str] | None) -> ConsumerConfig:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog=f"python -m {ENTRY_MODULE}",
        description="Poll an SQS queue and invoke a Lambda handler with Lambda's SQS event semantics.",
    )
    parser.add_argument("--queue-url", default=env("CONSUMER_QUEUE_URL"), required=not env("CONSUMER_QUEUE_URL"))
    parser.add_argument(
        "--handler",
        default=env("CONSUMER_HANDLER") or env("_HANDLER"),
        required=not (env("CONSUMER_HANDLER") or env("_HANDLER")),
    )
    parser.add_argument("--function-name", default=env("AWS_LAMBDA_FUNCTION_NAME", "consumer"))
    parser.add_argument("--function-arn", default=env("CONSUMER_FUNCTION_ARN"))
    parser.add_argument("--event-source-arn", default=env("CONSUMER_EVENT_SOURCE_ARN"))
    parser.add_argument("--batch-size", type=int, default=int(env("CONSUMER_BATCH_SIZE", "10")))
    parser.add_argument("--batching-window", type=float, default=float(env("CONSUMER_BATCHING_WINDOW", "0")))
    parser.add_argument(
        "--report-batch-item-failures",
        action=argparse.BooleanOptionalAction,
        default=env("CONSUMER_REPORT_BATCH_ITEM_FAILURES", "").lower() == "true",
    )
    parser.add_argument("--timeout", type=int, default=int(env("CONSUMER_TIMEOUT", "30")))
    parser.add_argument("--memory", type=int, default=int(env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")))
    parser.add_argument("--wait-time", type=int, default=int(env("CONSUMER_WAIT_TIME", str(SQS_MAX_WAIT_SECONDS))))
    parser.add_argument(
        "--retry-delay",
        type=int,
        default=None,
        help="local only: make failed messages visible again after this many seconds",
    )
    parser.add_argument(
        "--receive-visibility",
        type=int,
        default=None,
        help="local only: hide received messages for this many seconds instead of the queue's VisibilityTimeout",
    )
    parser.add_argument(
        "--event-shape",
        choices=["sqs", "eventbridge"],
        default="sqs",
        help="eventbridge: each message body is an EventBridge event, one invoke per event",
    )
    parser.add_argument("--ready-file", type=Path, default=None)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= 10_000:
        parser.error("--batch-size must be 1..10000")
    if not 0 <= args.wait_time <= SQS_MAX_WAIT_SECONDS:
        parser.error("--wait-time must be 0..20")
    return ConsumerConfig(
        queue_url=args.queue_url,
        handler=args.handler,
        function_name=args.function_name,
        function_arn=args.function_arn,
        event_source_arn=args.event_source_arn,
        batch_size=args.batch_size,
        batching_window_seconds=args.batching_window,
        report_batch_item_failures=args.report_batch_item_failures,
        timeout_seconds=args.timeout,
        memory_mb=args.memory,
        wait_time_seconds=args.wait_time,
        retry_delay_seconds=args.retry_delay,
        receive_visibility_seconds=args.receive_visibility,
        event_shape=args.event_shape,
        ready_file=args.ready_file,
        parent_pid=args.parent_pid,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse options, import the handler (failing loudly), poll until SIGTERM."""
    config = ConsumerConfig.from_argv(argv)
    configure_json_logging(service=f"consumer:{config.function_name}")
    try:
        handler = load_handler(config.handler)
    except Exception:
        logger.exception("cannot import handler", extra={"handler": config.handler})
        return 2
    # A long poll must outlive WaitTimeSeconds; standard retries ride out a restarting endpoint.
    sqs: SQSClient = boto3.client(
        "sqs",
        config=Config(
            retries={"mode": "standard", "max_attempts": 5}, read_timeout=SQS_MAX_WAIT_SECONDS + 10, connect_timeout=5
        ),
    )
    consumer = QueueConsumer(config, handler, sqs)
    consumer.install_signal_handlers()
    consumer.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
