"""Composition root of the intake worker: settings in, adapters built once per cold start, fakes injectable."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer

from schemas.bus import BusEvent
from workers.intake.logic import IntakeService
from workers.shared.aws import build_client
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.intake"


def build_app(
    settings: IdempotentWorkerSettings | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[BusEvent]:
    """Wire the intake worker from the environment; pass fakes or emulator-bound adapters in tests."""
    settings = settings or IdempotentWorkerSettings()
    service = IntakeService(publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE))
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    # Intake takes the raw bus event: an invalid detail is answered with a TicketRejected, not a retry.
    return WorkerApp(
        handle=service.process, persistence=persistence, idempotency_ttl_seconds=settings.idempotency_ttl_seconds
    )
