"""Composition root of the notifications worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from schemas.bus import BusEvent
from workers.notify.logic import NotifyService
from workers.notify.routes import DEFAULT_ROUTES_FILE, RoutingTable
from workers.notify.topics import Notifier, SnsNotifier
from workers.shared.aws import build_client
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.notify"


class NotifySettings(IdempotentWorkerSettings):
    """The notifications worker's environment, validated at cold start."""

    agents_topic_arn: str = Field(min_length=1)
    customers_topic_arn: str = Field(min_length=1)
    ops_topic_arn: str = Field(min_length=1)
    notification_routes_file: str = Field(default=DEFAULT_ROUTES_FILE, min_length=1)


def build_service(
    settings: NotifySettings, *, notifier: Notifier | None = None, publisher: EventPublisher | None = None
) -> NotifyService:
    """The service with its routing file read and every audience's topic known."""
    return NotifyService(
        notifier or SnsNotifier(),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        RoutingTable.load(settings.notification_routes_file),
        {
            "agents": settings.agents_topic_arn,
            "customers": settings.customers_topic_arn,
            "ops": settings.ops_topic_arn,
        },
    )


def build_app(
    settings: NotifySettings | None = None,
    *,
    notifier: Notifier | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[BusEvent]:
    """Wire the worker from the environment; pass fakes or emulator-bound adapters in tests."""
    settings = settings or NotifySettings()
    service = build_service(settings, notifier=notifier, publisher=publisher)
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    return WorkerApp(
        handle=service.process, persistence=persistence, idempotency_ttl_seconds=settings.idempotency_ttl_seconds
    )
