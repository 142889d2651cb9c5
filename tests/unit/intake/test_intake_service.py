"""Intake end to end in process: sample events in, published events out, through the handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from schemas import BusEvent, TicketAccepted, TicketRejected, TicketSubmitted
from schemas.errors import MisroutedEvent
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from workers.intake import handler as intake_handler
from workers.intake.logic import IntakeService
from workers.intake.wiring import build_app
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.readers import BusEventReader
from workers.shared.runtime.worker import SqsWorker, sqs_bus_worker
from workers.shared.settings import IdempotentWorkerSettings

LoadEvent = Callable[[str], dict[str, Any]]


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


@pytest.fixture
def lambda_handler(publisher: InMemoryPublisher) -> SqsWorker[BusEvent]:
    """Intake's handler exactly as handler.py builds it, wired to a fake bus and an in-memory idempotency store."""
    settings = IdempotentWorkerSettings(event_bus_name="bus", idempotency_table_name="idempotency")
    store = InMemoryIdempotencyStore()
    return sqs_bus_worker(
        consumes=TicketSubmitted, build=lambda: build_app(settings, publisher=publisher, persistence=store)
    )


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{index}",
                "receiptHandle": f"rh-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1700000000001",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:intake",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def test_sample_ticket_is_accepted_redacted_and_prioritised(load_event: LoadEvent) -> None:
    publisher = InMemoryPublisher()
    outcome = IntakeService(publisher).process(BusEvent.model_validate(load_event("TicketSubmitted")))
    assert isinstance(outcome, TicketAccepted)
    assert publisher.published == [outcome]
    assert outcome.priority == "high" and outcome.priority_source == "upstream"
    assert outcome.redactions == {"card": 1, "phone": 1}
    assert "4111" not in outcome.body and "555" not in outcome.body
    assert outcome.correlation_id == "T-1001"


def test_invalid_ticket_is_rejected_with_reasons(load_event: LoadEvent) -> None:
    publisher = InMemoryPublisher()
    outcome = IntakeService(publisher).process(BusEvent.model_validate(load_event("tickets/T-2099-invalid")))
    assert isinstance(outcome, TicketRejected)
    assert outcome.ticket_id == "T-2099" and outcome.correlation_id == "T-2099"
    assert any(error.startswith("body:") for error in outcome.errors)
    assert any(error.startswith("channel:") for error in outcome.errors)


def test_whitespace_only_body_is_rejected(load_event: LoadEvent) -> None:
    sample = load_event("TicketSubmitted")
    sample["detail"]["body"] = "\u200b \x07 \n"
    outcome = IntakeService(InMemoryPublisher()).process(BusEvent.model_validate(sample))
    assert isinstance(outcome, TicketRejected)


def test_other_detail_types_are_a_wiring_fault(load_event: LoadEvent) -> None:
    with pytest.raises(MisroutedEvent):
        IntakeService(InMemoryPublisher()).process(BusEvent.model_validate(load_event("TicketAccepted")))


def test_handler_module_is_the_runtime_reading_ticket_submitted() -> None:
    # Given intake's handler module, Then its handler is the shared runtime reading TicketSubmitted bus events
    handler = intake_handler.lambda_handler
    assert isinstance(handler, SqsWorker)
    assert handler.reader == BusEventReader((TicketSubmitted,))


def test_handler_fails_only_the_poison_record(
    lambda_handler: SqsWorker[BusEvent], publisher: InMemoryPublisher, load_event: LoadEvent
) -> None:
    first, second = load_event("tickets/T-2003"), load_event("tickets/T-2005")
    response = lambda_handler(sqs_event(json.dumps(first), "{not json", json.dumps(second)), FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert [event.detail_type for event in publisher.published] == ["TicketAccepted", "TicketAccepted"]


def test_redelivered_message_publishes_once(
    lambda_handler: SqsWorker[BusEvent], publisher: InMemoryPublisher, load_event: LoadEvent
) -> None:
    body = json.dumps(load_event("tickets/T-2001"))
    lambda_handler(sqs_event(body), FakeLambdaContext())
    lambda_handler(sqs_event(body), FakeLambdaContext())
    assert len(publisher.published) == 1


def test_missing_settings_fail_loudly_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    monkeypatch.delenv("IDEMPOTENCY_TABLE_NAME", raising=False)
    with pytest.raises(ValueError, match="event_bus_name"):
        IdempotentWorkerSettings()


def test_upstream_retry_with_a_new_bus_id_publishes_once(
    lambda_handler: SqsWorker[BusEvent], publisher: InMemoryPublisher, load_event: LoadEvent
) -> None:
    retried = load_event("tickets/T-2001")
    retried["id"] = "another-bus-id"
    lambda_handler(sqs_event(json.dumps(load_event("tickets/T-2001"))), FakeLambdaContext())
    lambda_handler(sqs_event(json.dumps(retried)), FakeLambdaContext())
    assert len(publisher.published) == 1
