"""Composition root of the ticket record worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from schemas.bus import BusEvent
from workers.shared.aws import build_client
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings
from workers.ticket_record.logic import RetryPolicy, TicketRecordService
from workers.ticket_record.rules import DEFAULT_RULES_FILE, EscalationRules
from workers.ticket_record.store import DynamoDBTicketStore, TicketStore

EVENT_SOURCE = "supportflow.ticket-record"


class TicketRecordSettings(IdempotentWorkerSettings):
    """The ticket record worker's environment, validated at cold start."""

    tickets_table_name: str = Field(min_length=1)
    escalation_rules_file: str = Field(default=DEFAULT_RULES_FILE, min_length=1)
    version_conflict_attempts: int = Field(default=8, ge=1, le=50)


def build_app(
    settings: TicketRecordSettings | None = None,
    *,
    store: TicketStore | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[BusEvent]:
    """Wire the worker from the environment; pass fakes or emulator-bound adapters in tests."""
    settings = settings or TicketRecordSettings()
    service = TicketRecordService(
        store or DynamoDBTicketStore(settings.tickets_table_name),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        EscalationRules.load(settings.escalation_rules_file),
        RetryPolicy(attempts=settings.version_conflict_attempts),
    )
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    return WorkerApp(
        handle=lambda bus_event: service.process(bus_event).analyzed,
        persistence=persistence,
        idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
    )
