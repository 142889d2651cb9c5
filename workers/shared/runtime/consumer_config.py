"""How one consumer polls and invokes, and the one place its command line is read and written."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ENTRY_MODULE = "workers.shared.runtime.consumer"
SQS_MAX_WAIT_SECONDS = 20


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
    # Pollers in this process, each its own receive -> invoke -> settle loop over one shared handler:
    # the event source's ScalingConfig.MaximumConcurrency.
    concurrency: int = 1
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
            "--concurrency",
            str(self.concurrency),
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
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(env("CONSUMER_CONCURRENCY", "1")),
        help="pollers in this process (the event source's MaximumConcurrency)",
    )
    parser.add_argument("--ready-file", type=Path, default=None)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= 10_000:
        parser.error("--batch-size must be 1..10000")
    if not 0 <= args.wait_time <= SQS_MAX_WAIT_SECONDS:
        parser.error("--wait-time must be 0..20")
    if not 1 <= args.concurrency <= 1000:
        parser.error("--concurrency must be 1..1000")
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
        concurrency=args.concurrency,
        ready_file=args.ready_file,
        parent_pid=args.parent_pid,
    )
