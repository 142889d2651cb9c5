"""Composition root of the sentiment worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer

from schemas.events import TicketAccepted
from workers.sentiment.bedrock import BedrockSentimentAnalyzer
from workers.sentiment.logic import SentimentAnalyzer, SentimentService
from workers.shared.aws import build_client
from workers.shared.bedrock import BedrockClient
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.sentiment"


def build_app(
    settings: IdempotentWorkerSettings | None = None,
    *,
    analyzer: SentimentAnalyzer | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[TicketAccepted]:
    """Wire the worker from the environment; pass fakes or emulator-bound adapters in tests."""
    settings = settings or IdempotentWorkerSettings()
    service = SentimentService(
        analyzer or BedrockSentimentAnalyzer(BedrockClient()),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
    )
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    return WorkerApp(
        handle=service.process, persistence=persistence, idempotency_ttl_seconds=settings.idempotency_ttl_seconds
    )
