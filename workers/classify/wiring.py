"""Composition root of the classification worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from schemas.events import TicketAccepted
from workers.classify.bedrock import BedrockClassifier
from workers.classify.logic import ClassificationService, Classifier
from workers.classify.taxonomy import DEFAULT_TAXONOMY_FILE, Taxonomy
from workers.shared.aws import build_client
from workers.shared.bedrock import BedrockClient
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.classify"


class ClassifySettings(IdempotentWorkerSettings):
    """The classification worker's environment, validated at cold start."""

    taxonomy_file: str = Field(default=DEFAULT_TAXONOMY_FILE, min_length=1)
    review_confidence_threshold: float = Field(default=0.5, ge=0.0, le=1.0)


def build_app(
    settings: ClassifySettings | None = None,
    *,
    classifier: Classifier | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[TicketAccepted]:
    """Wire the worker from the environment; pass fakes or emulator-bound adapters in tests."""
    settings = settings or ClassifySettings()
    taxonomy = Taxonomy.load(settings.taxonomy_file)
    service = ClassificationService(
        classifier or BedrockClassifier(BedrockClient(), taxonomy),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        taxonomy,
        settings.review_confidence_threshold,
    )
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    return WorkerApp(
        handle=service.process, persistence=persistence, idempotency_ttl_seconds=settings.idempotency_ttl_seconds
    )
