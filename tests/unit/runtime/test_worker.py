"""The worker runtime: a handler built from fake wiring, read, processed once, failures reported safely."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from schemas import BusEvent, TicketAccepted, TicketSubmitted
from schemas.envelope import Event
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.runtime.fakes import sqs_message
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.lambda_event import sqs_event_record
from workers.shared.runtime.worker import (
    Outcome,
    SqsWorker,
    WorkerApp,
    WorkerMisconfigured,
    sqs_bus_worker,
    sqs_worker,
)
from workers.shared.settings import IdempotentWorkerSettings

LoadEvent = Callable[[str], dict[str, Any]]
FAKE_EMAIL = "dana.secret@example.com"


class TicketSeen(Event):
    """What the test worker emits for each accepted ticket."""

    ticket_id: str


class SeeingWorker:
    """A worker's logic and wiring in one fake: counts builds, publishes a TicketSeen per ticket."""

    def __init__(self) -> None:
        self.builds = 0
        self.handled: list[TicketAccepted] = []
        self.publisher = InMemoryPublisher()
        self.store = InMemoryIdempotencyStore()

    def build(self) -> WorkerApp[TicketAccepted]:
        self.builds += 1
        return WorkerApp(handle=self.see, persistence=self.store)

    def see(self, accepted: TicketAccepted) -> TicketSeen:
        self.handled.append(accepted)
        seen = accepted.follow_up(TicketSeen, ticket_id=accepted.ticket_id)
        self.publisher.publish([seen])
        return seen


def sqs_event(*bodies: str) -> dict[str, Any]:
    """The Lambda SQS event for these message bodies (built as the consumer and Lambda build it)."""
    messages = [sqs_message(f"m-{index}", body) for index, body in enumerate(bodies)]
    return {"Records": [sqs_event_record(m, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1") for m in messages]}  # type: ignore[arg-type]


def _rendered(record: logging.LogRecord) -> str:
    """Everything a log handler could print of ``record``: message, extra fields and any traceback."""
    text = logging.Formatter().format(record)
    return text + repr({key: value for key, value in vars(record).items() if key not in {"exc_info", "exc_text"}})


@pytest.fixture
def worker() -> SeeingWorker:
    return SeeingWorker()


@pytest.fixture
def handler(worker: SeeingWorker) -> SqsWorker[TicketAccepted]:
    return sqs_worker(consumes=TicketAccepted, build=worker.build)


def test_typed_worker_gets_the_parsed_event_and_its_app_is_built_once(
    worker: SeeingWorker, handler: SqsWorker[TicketAccepted], load_event: LoadEvent
) -> None:
    # Given a bus event of the consumed type
    body = json.dumps(load_event("TicketAccepted"))
    # When two invocations (one cold start) each carry it, the second as a redelivery
    first = handler(sqs_event(body), FakeLambdaContext())
    second = handler(sqs_event(body), FakeLambdaContext())
    # Then the logic saw the typed event once, published once, and the app was built once
    assert first == second == {"batchItemFailures": []}
    assert [accepted.ticket_id for accepted in worker.handled] == ["T-1001"]
    assert [event.detail_type for event in worker.publisher.published] == ["TicketSeen"]
    assert worker.builds == 1


def test_the_stored_result_is_the_typed_outcome(
    worker: SeeingWorker, handler: SqsWorker[TicketAccepted], load_event: LoadEvent
) -> None:
    # Given a processed message
    handler(sqs_event(json.dumps(load_event("TicketAccepted"))), FakeLambdaContext())
    # Then idempotency stored the outcome (what was emitted), keyed on the producer's event id
    (record,) = worker.store.records.values()
    stored = Outcome.model_validate_json(record.response_data or "")
    (seen,) = worker.publisher.published
    assert [(e.detail_type, e.event_id) for e in stored.emitted] == [("TicketSeen", seen.event_id)]


def test_a_misrouted_detail_type_fails_only_its_record_with_a_schema_error(
    worker: SeeingWorker, handler: SqsWorker[TicketAccepted], load_event: LoadEvent, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a batch holding a TicketSubmitted (not consumed here) and a TicketAccepted
    misrouted, good = json.dumps(load_event("TicketSubmitted")), json.dumps(load_event("TicketAccepted"))
    # When it is handled
    response = handler(sqs_event(misrouted, good), FakeLambdaContext())
    # Then only the misrouted record fails, and the log names the schema error and the detail-types
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert len(worker.handled) == 1
    (failure,) = [vars(record) for record in caplog.records if record.getMessage().startswith("record failed")]
    assert failure["error_type"] == "schemas.errors.MisroutedEvent"
    assert (failure["detail_type"], failure["expected"]) == ("TicketSubmitted", ["TicketAccepted"])


def test_a_batch_that_fails_whole_is_reported_not_raised_and_logs_no_input(
    handler: SqsWorker[TicketAccepted], load_event: LoadEvent, caplog: pytest.LogCaptureFixture
) -> None:
    # Given two poison records: a detail that breaks the contract with an e-mail address in it, and no JSON
    poison = load_event("TicketAccepted")
    poison["detail"]["customer_id"] = {"email": FAKE_EMAIL}
    # When the batch is handled
    response = handler(sqs_event(json.dumps(poison), f"not json {FAKE_EMAIL}"), FakeLambdaContext())
    # Then both are reported as failures (SQS retries them), nothing raises, and no log line holds the address
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
    failures = [vars(record) for record in caplog.records if record.getMessage().startswith("record failed")]
    assert [f["invalid_fields"] for f in failures] == [["customer_id: string_type"], ["<root>: json_invalid"]]
    assert not [record for record in caplog.records if FAKE_EMAIL in _rendered(record)]


def test_a_bus_worker_gets_the_bus_event_even_when_its_detail_is_invalid(load_event: LoadEvent) -> None:
    # Given a worker that takes the raw bus event of TicketSubmitted
    received: list[BusEvent] = []

    def handle(bus_event: BusEvent) -> None:
        received.append(bus_event)

    store = InMemoryIdempotencyStore()
    handler = sqs_bus_worker(consumes=TicketSubmitted, build=lambda: WorkerApp(handle=handle, persistence=store))
    # When an invalid TicketSubmitted arrives
    response = handler(sqs_event(json.dumps(load_event("tickets/T-2099-invalid"))), FakeLambdaContext())
    # Then the worker got it to answer (here: nothing emitted), and the record succeeded
    assert response == {"batchItemFailures": []}
    assert [bus_event.detail_type for bus_event in received] == ["TicketSubmitted"]


def test_settings_missing_from_the_environment_fail_every_invocation_by_name(
    monkeypatch: pytest.MonkeyPatch, load_event: LoadEvent
) -> None:
    # Given a worker whose wiring reads settings from an environment that lacks them
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    handler = sqs_worker(consumes=TicketAccepted, build=lambda: _app_from(IdempotentWorkerSettings()))
    # When it is invoked, Then it fails loudly naming the missing variable
    with pytest.raises(WorkerMisconfigured, match="event_bus_name: missing"):
        handler(sqs_event(json.dumps(load_event("TicketAccepted"))), FakeLambdaContext())


def _app_from(settings: IdempotentWorkerSettings) -> WorkerApp[TicketAccepted]:
    return WorkerApp(handle=lambda _accepted: None, persistence=InMemoryIdempotencyStore())


def test_a_copy_arriving_while_the_original_is_in_progress_waits_for_its_outcome(load_event: LoadEvent) -> None:
    # Given a worker whose logic is still busy with an event when a second copy of it arrives
    release, started = threading.Event(), threading.Event()
    worker = SeeingWorker()

    def slow_see(accepted: TicketAccepted) -> TicketSeen:
        started.set()
        assert release.wait(5), "the original was never released"
        return worker.see(accepted)

    handler = sqs_worker(consumes=TicketAccepted, build=lambda: WorkerApp(handle=slow_see, persistence=worker.store))
    body = json.dumps(load_event("TicketAccepted"))
    responses: list[Any] = []
    original = threading.Thread(target=lambda: responses.append(handler(sqs_event(body), FakeLambdaContext())))
    original.start()
    assert started.wait(5)
    # When the copy is handled while the original is in progress, and the original then finishes
    threading.Timer(0.3, release.set).start()
    copy_response = handler(sqs_event(body), FakeLambdaContext())
    original.join(5)
    # Then the copy succeeds with the original's outcome instead of failing into a retry, and the effect ran once
    assert copy_response == responses[0] == {"batchItemFailures": []}
    assert len(worker.handled) == 1
    assert len(worker.publisher.published) == 1


def test_a_copy_gives_up_waiting_within_the_invocation_time_and_fails_for_a_later_retry(
    load_event: LoadEvent,
) -> None:
    # Given an event whose in-progress mark was left by an invocation that died (it never completes)
    worker = SeeingWorker()
    blocked = threading.Event()

    def never_done(accepted: TicketAccepted) -> TicketSeen:
        blocked.wait(10)
        return worker.see(accepted)

    handler = sqs_worker(consumes=TicketAccepted, build=lambda: WorkerApp(handle=never_done, persistence=worker.store))
    body = json.dumps(load_event("TicketAccepted"))
    stuck = threading.Thread(target=lambda: handler(sqs_event(body), FakeLambdaContext()), daemon=True)
    stuck.start()
    while not worker.store.records:
        time.sleep(0.01)
    # When a copy arrives with almost no invocation time left (5.5 s, of which 5 s are the safety margin)
    response = handler(sqs_event(body), FakeLambdaContext(remaining_ms=5_500))
    blocked.set()
    # Then it fails its record (SQS retries it later) instead of waiting past its own deadline
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
