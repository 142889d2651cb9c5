"""Several pollers share one handler: the app is built once and each batch reports only its own failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from schemas import TicketAccepted
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.runtime.fakes import sqs_message
from workers.shared.runtime.consumer import ConsumerConfig
from workers.shared.runtime.lambda_event import sqs_event_record
from workers.shared.runtime.worker import WorkerApp, sqs_worker

LoadEvent = Callable[[str], dict[str, Any]]
POLLERS = 6


def test_the_concurrency_option_round_trips_through_the_command_line() -> None:
    # Given a consumer config with ten pollers / When it is written and read back / Then it is the same
    config = ConsumerConfig(queue_url="https://sqs.example/q", handler="m.h", concurrency=10)
    assert ConsumerConfig.from_argv(config.to_argv()) == config


def test_concurrent_batches_each_report_their_own_failures_and_the_app_is_built_once(load_event: LoadEvent) -> None:
    # Given one handler whose logic fails the tickets named bad, slowly enough for batches to interleave
    builds: list[int] = []
    lock = threading.Lock()

    def handle(ticket: TicketAccepted) -> None:
        time.sleep(0.02)
        if ticket.ticket_id.startswith("bad"):
            raise ValueError("refused")

    def build() -> WorkerApp[TicketAccepted]:
        with lock:
            builds.append(1)
        time.sleep(0.05)  # a slow cold start, so every poller asks for the app while it is being built
        return WorkerApp(handle=handle, persistence=InMemoryIdempotencyStore())

    handler = sqs_worker(consumes=TicketAccepted, build=build)
    sample = load_event("TicketAccepted")

    def batch(poller: int) -> dict[str, Any]:
        messages: list[Any] = []
        for kind in ("good", "bad", "good"):
            ticket_id = f"{kind}-{poller}-{len(messages)}"
            body = {**sample, "detail": {**sample["detail"], "ticket_id": ticket_id, "event_id": ticket_id}}
            messages.append(sqs_message(ticket_id, json.dumps(body)))
        event = {
            "Records": [sqs_event_record(m, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1") for m in messages]
        }
        response: dict[str, Any] = dict(handler(event, FakeLambdaContext()))
        return response

    # When as many pollers as the event source allows invoke it at once
    with ThreadPoolExecutor(POLLERS) as pool:
        responses = list(pool.map(batch, range(POLLERS)))
    # Then each batch names exactly its own failed message, and the app was built once
    assert [r["batchItemFailures"] for r in responses] == [[{"itemIdentifier": f"bad-{p}-1"}] for p in range(POLLERS)]
    assert len(builds) == 1
