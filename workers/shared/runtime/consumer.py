"""Long-polling SQS consumer that invokes a Lambda handler with the exact Lambda SQS event.

The ECS entry point of every SQS worker, and what the local stack runs per function (in its own
process, with the function's environment)::

    python -m workers.shared.runtime.consumer --queue-url URL --handler workers.intake.handler.lambda_handler

It follows the Lambda event source mapping semantics: BatchSize, MaximumBatchingWindowInSeconds,
ReportBatchItemFailures (delete what succeeded, leave what failed; a raised exception leaves the
whole batch), so SQS redrives to the DLQ after maxReceiveCount exactly as with Lambda.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from workers.shared.runtime.consumer_config import ENTRY_MODULE, SQS_MAX_WAIT_SECONDS, ConsumerConfig
from workers.shared.runtime.failures import describe_failure, exception_frames
from workers.shared.runtime.lambda_event import (
    Handler,
    LambdaContext,
    failed_message_ids,
    load_handler,
    sqs_event_record,
)
from workers.shared.runtime.logs import configure_json_logging

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, ReceiveMessageRequestTypeDef

logger = logging.getLogger("supportflow.consumer")

SQS_MAX_RECEIVE = 10
__all__ = ["ENTRY_MODULE", "ConsumerConfig", "QueueConsumer", "failed_message_ids", "main"]


class _StopPolling(BaseException):
    """Raised from the signal handler to cut a backoff sleep short.

    A BaseException, like KeyboardInterrupt, so nothing that catches Exception swallows it.
    """


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
            extra={**_aws_failure(error), "delay_seconds": round(delay, 2), "queue_url": self.config.queue_url},
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
        except Exception as error:  # any failure leaves the whole batch, as Lambda does
            # Never logger.exception: the traceback's message can echo the input (pydantic does).
            logger.error(
                "handler raised; the whole batch will be retried",
                extra={
                    "function_name": self.config.function_name,
                    "request_id": context.aws_request_id,
                    "batch_size": len(ids),
                    **describe_failure(error),
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
            except Exception as error:  # the event stays on the queue to be retried
                logger.error(  # no traceback: its message can echo the input
                    "handler raised; the event will be retried",
                    extra={
                        "function_name": self.config.function_name,
                        "message_id": message["MessageId"],
                        **describe_failure(error),
                    },
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
            logger.warning("settling batch failed", extra={"action": action, **_aws_failure(error)})
            return
        if result.get("Failed"):
            logger.warning("settling batch partly failed", extra={"action": action, "failed": result["Failed"]})


def _aws_failure(error: Exception) -> dict[str, Any]:
    fields = describe_failure(error)
    if isinstance(error, ClientError):
        fields["error_code"] = error.response.get("Error", {}).get("Code")
    return fields


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse options, import the handler (failing loudly), poll until SIGTERM."""
    config = ConsumerConfig.from_argv(argv)
    configure_json_logging(service=f"consumer:{config.function_name}")
    try:
        handler = load_handler(config.handler)
    except Exception as error:  # any import failure is fatal, reported without its text
        # Where it failed (file:line frames), not the message: a settings error would echo the environment.
        logger.error(
            "cannot import handler",
            extra={"handler": config.handler, "where": exception_frames(error), **describe_failure(error)},
        )
        return 2
    # A long poll must outlive WaitTimeSeconds; standard retries ride out a restarting endpoint.
    sqs: SQSClient = boto3.client(
        "sqs",
        config=Config(
            retries={"mode": "standard", "max_attempts": 5},
            read_timeout=SQS_MAX_WAIT_SECONDS + 10,
            connect_timeout=5,
            # One connection per poller: each holds one open long poll.
            max_pool_connections=max(10, config.concurrency),
        ),
    )
    if config.concurrency == 1:
        consumer = QueueConsumer(config, handler, sqs)
        consumer.install_signal_handlers()
        consumer.run()
    else:
        run_pollers([QueueConsumer(config, handler, sqs) for _ in range(config.concurrency)])
    return 0


def run_pollers(consumers: Sequence[QueueConsumer]) -> None:
    """Run each consumer's loop in its own thread until SIGTERM / SIGINT; every one finishes its batch."""

    def stop_all(signum: int, _frame: FrameType | None) -> None:
        logger.info("stop requested", extra={"signal": signal.Signals(signum).name, "pollers": len(consumers)})
        for consumer in consumers:
            consumer.request_stop()

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    threads = [
        threading.Thread(target=consumer.run, name=f"poller-{index}", daemon=True)
        for index, consumer in enumerate(consumers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        # A timed join keeps the main thread free to run the signal handler.
        while thread.is_alive():
            thread.join(timeout=0.5)


if __name__ == "__main__":
    sys.exit(main())
