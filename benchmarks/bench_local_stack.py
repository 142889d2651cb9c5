"""Local stack figures: boot time, put_events → handler latency, messages/s through one consumer."""

from __future__ import annotations

import copy
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from supportflow.local import EmulatedStack
from supportflow.local.observe import load_event, put_bus_event, queue_depth, take_messages

ROOT = Path(__file__).resolve().parents[1]
LATENCY_EVENTS = 30
THROUGHPUT_MESSAGES = 200


def timing_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Report when each record reached the handler (wall clock) to $CAPTURE_QUEUE_URL."""
    seen = time.time()
    entries = [
        {"Id": str(i), "MessageBody": json.dumps({"body": json.loads(r["body"]), "seen": seen})}
        for i, r in enumerate(event["Records"])
    ]
    boto3.client("sqs").send_message_batch(QueueUrl=os.environ["CAPTURE_QUEUE_URL"], Entries=entries)  # type: ignore[arg-type]
    return {"batchItemFailures": []}


def noop_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Succeed on every record: measures the consumer and the emulator, not a worker."""
    return {"batchItemFailures": []}


def _boot_seconds(runs: int = 3) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with EmulatedStack.start(workers=False, bedrock=False, stage=f"b{uuid.uuid4().hex[:6]}"):
            times.append(time.perf_counter() - started)
    return times


def _latency(stack: EmulatedStack, window: float) -> list[float]:
    sqs = stack.clients.sqs
    capture = sqs.create_queue(QueueName=f"bench-capture-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    key = f"bench-latency-{uuid.uuid4().hex[:6]}"
    stack.start_consumer(
        key,
        stack.physical_id("IntakeQueue"),
        "benchmarks.bench_local_stack.timing_handler",
        environment={"CAPTURE_QUEUE_URL": capture},
        batch_size=10,
        batching_window_seconds=window,
    )
    sample = load_event(ROOT / "events" / "TicketSubmitted.json")
    sent: dict[str, float] = {}
    try:
        for index in range(LATENCY_EVENTS):
            marker = f"lat-{index}-{uuid.uuid4().hex[:6]}"
            sent[marker] = time.time()
            put_bus_event(stack.clients.events, stack.physical_id("EventBus"), sample, {"correlation_id": marker})
            time.sleep(0.1)
        captured = take_messages(sqs, capture, lambda _m: True, expected=LATENCY_EVENTS, timeout=60)
    finally:
        stack.stop_consumer(key)
    return [c.json["seen"] - sent[c.json["body"]["detail"]["correlation_id"]] for c in captured]


def _throughput(stack: EmulatedStack, handler: str, bodies: list[str]) -> float:
    sqs = stack.clients.sqs
    url = sqs.create_queue(QueueName=f"bench-tp-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
    function = stack.functions.get("IntakeFunction")
    environment = stack.worker_environment(function) if function else {}
    key = f"bench-tp-{uuid.uuid4().hex[:6]}"
    stack.start_consumer(key, url, handler, environment=environment, batch_size=10)
    started = time.perf_counter()
    try:
        while queue_depth(sqs, url) != (0, 0):
            time.sleep(0.1)
    finally:
        elapsed = time.perf_counter() - started
        stack.stop_consumer(key)
    return len(bodies) / elapsed


def _intake_bodies(count: int) -> list[str]:
    samples = [load_event(p) for p in sorted((ROOT / "events" / "tickets").glob("T-20*.json"))]
    samples = samples or [load_event(ROOT / "events" / "TicketSubmitted.json")]
    bodies = []
    for index in range(count):
        event = copy.deepcopy(samples[index % len(samples)])
        # Intake is idempotent on the submitter's event id: fresh ids, or it would measure deduplication.
        event["id"] = str(uuid.uuid4())
        event["detail"]["event_id"] = str(uuid.uuid4())
        bodies.append(json.dumps(event))
    return bodies


def main() -> None:
    """Print the local stack's figures as a table."""
    rows: list[tuple[str, str]] = []
    boots = _boot_seconds()
    rows.append(("boot, no workers, first (cold imports)", f"{boots[0]:.2f} s"))
    rows.append(("boot, no workers, warm (median of next)", f"{statistics.median(boots[1:]):.2f} s"))
    started = time.perf_counter()
    # Worker logs (Powertools JSON on stdout) would bury the table.
    log_dir = Path(tempfile.mkdtemp(prefix="bench-local-stack-"))
    with EmulatedStack.start(workers=True, stage=f"b{uuid.uuid4().hex[:6]}", log_dir=log_dir) as stack:
        rows.append(("boot with offline Bedrock + workers ready", f"{time.perf_counter() - started:.2f} s"))
        with stack.paused("IntakeFunction"):
            for window in (0.0, 1.0):
                latencies = sorted(_latency(stack, window))
                p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
                rows.append(
                    (
                        f"put_events -> handler, window {window:g} s (n={len(latencies)})",
                        f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
                    )
                )
            noop = _throughput(stack, "benchmarks.bench_local_stack.noop_handler", ["{}"] * THROUGHPUT_MESSAGES)
            rows.append((f"one consumer, no-op handler ({THROUGHPUT_MESSAGES} msgs)", f"{noop:.0f} msg/s"))
            if "IntakeFunction" in stack.functions:
                intake = _throughput(
                    stack, stack.functions["IntakeFunction"].handler, _intake_bodies(THROUGHPUT_MESSAGES)
                )
                rows.append((f"one consumer, intake handler ({THROUGHPUT_MESSAGES} msgs)", f"{intake:.0f} msg/s"))
    rows.append(("worker logs", str(log_dir)))
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
