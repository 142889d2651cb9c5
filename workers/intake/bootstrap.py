"""Composition root of the intake worker: builds clients and adapters once per cold start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from schemas.bus import BusEvent
from schemas.envelope import Event
from workers.intake.logic import IntakeService
from workers.shared.aws import build_client
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.intake"


@dataclass(frozen=True)
class IntakeApp:
    """What the handler needs: the once-only entry point and the idempotency config to give the context."""

    idempotency: IdempotencyConfig
    process_once: Callable[..., dict[str, str]]  # called with bus_event=…


def _outcome(event: Event) -> dict[str, str]:
    return {"detail_type": event.detail_type, "event_id": event.event_id}


def build_app(
    settings: IdempotentWorkerSettings | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> IntakeApp:
    """Wire the intake worker from settings; pass fakes or emulator-bound adapters in tests."""
    settings = settings or IdempotentWorkerSettings()
    service = IntakeService(publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE))
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    # The submitter's event id is the key: a redelivered message, or an upstream that retried its
    # PutEvents (a new bus id, the same event), publishes nothing twice.
    config = IdempotencyConfig(
        event_key_jmespath="detail.event_id", expires_after_seconds=settings.idempotency_ttl_seconds
    )

    def process(bus_event: BusEvent) -> dict[str, str]:
        return _outcome(service.process(bus_event))

    process_once: Callable[..., dict[str, str]] = idempotent_function(
        process, data_keyword_argument="bus_event", persistence_store=persistence, config=config
    )

    return IntakeApp(idempotency=config, process_once=process_once)


_app: IntakeApp | None = None


def get_app() -> IntakeApp:
    """The process-wide app, built on first use (after tests had a chance to install their own)."""
    global _app  # noqa: PLW0603  (one composition root per cold start)
    if _app is None:
        _app = build_app()
    return _app


def set_app(app: IntakeApp | None) -> None:
    """Install an app (tests), or clear it so the next call builds from the environment."""
    global _app  # noqa: PLW0603
    _app = app
