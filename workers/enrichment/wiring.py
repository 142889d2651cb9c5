"""Composition root of the enrichment worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from schemas.bus import BusEvent
from workers.enrichment.adapters import (
    BedrockBatchInference,
    BedrockOnDemandEnricher,
    DynamoCatalog,
    DynamoRunStore,
    S3Objects,
    StepFunctionsCallbacks,
)
from workers.enrichment.correlator import CompletionCorrelator
from workers.enrichment.models import EnrichmentTask
from workers.enrichment.ports import BatchInference, Catalog, ObjectStore, OnDemandEnricher, RunStore, TaskCallbacks
from workers.enrichment.tasks import EnrichmentTasks, RunSettings
from workers.shared.aws import build_client
from workers.shared.bedrock import BedrockClient, BedrockSettings
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.enrichment"


class EnrichmentSettings(IdempotentWorkerSettings):
    """The enrichment worker's environment, validated at cold start."""

    catalog_table_name: str = Field(min_length=1)
    enrichment_runs_table_name: str = Field(min_length=1)
    enrichment_bucket_name: str = Field(min_length=3)
    enrichment_model_id: str = Field(min_length=1)
    batch_role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::")
    # AWS's per-job minimum is 100 records for most models; the template parameter sets it.
    batch_minimum_records: int = Field(default=100, ge=1)
    max_items_per_run: int = Field(default=50_000, ge=1)
    batch_timeout_hours: int = Field(default=24, ge=24, le=168)


def _persistence(settings: EnrichmentSettings, persistence: BasePersistenceLayer | None) -> BasePersistenceLayer:
    return persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )


def _batch(settings: EnrichmentSettings) -> BedrockBatchInference:
    return BedrockBatchInference(settings.enrichment_model_id, settings.batch_role_arn, settings.batch_timeout_hours)


def build_task_app(
    settings: EnrichmentSettings | None = None,
    *,
    catalog: Catalog | None = None,
    runs: RunStore | None = None,
    batch: BatchInference | None = None,
    enricher: OnDemandEnricher | None = None,
    objects: ObjectStore | None = None,
    publisher: EventPublisher | None = None,
    callbacks: TaskCallbacks | None = None,
    bedrock_settings: BedrockSettings | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[EnrichmentTask]:
    """The state machine's tasks: start, poll, results."""
    settings = settings or EnrichmentSettings()
    bedrock_settings = bedrock_settings or BedrockSettings()
    tasks = EnrichmentTasks(
        catalog=catalog or DynamoCatalog(settings.catalog_table_name),
        runs=runs or DynamoRunStore(settings.enrichment_runs_table_name),
        batch=batch or _batch(settings),
        enricher=enricher
        or BedrockOnDemandEnricher(BedrockClient(settings=bedrock_settings), settings.enrichment_model_id),
        objects=objects or S3Objects(),
        publisher=publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        callbacks=callbacks or StepFunctionsCallbacks(),
        settings=RunSettings(
            bucket=settings.enrichment_bucket_name,
            batch_minimum=settings.batch_minimum_records,
            max_items=settings.max_items_per_run,
            pricing=bedrock_settings.spec(settings.enrichment_model_id).pricing,
        ),
    )
    return WorkerApp(tasks.process, _persistence(settings, persistence), settings.idempotency_ttl_seconds)


def build_correlator_app(
    settings: EnrichmentSettings | None = None,
    *,
    batch: BatchInference | None = None,
    runs: RunStore | None = None,
    callbacks: TaskCallbacks | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[BusEvent]:
    """Batch job state changes in; the waiting task answered."""
    settings = settings or EnrichmentSettings()
    correlator = CompletionCorrelator(
        batch or _batch(settings),
        runs or DynamoRunStore(settings.enrichment_runs_table_name),
        callbacks or StepFunctionsCallbacks(),
    )
    return WorkerApp(correlator.process, _persistence(settings, persistence), settings.idempotency_ttl_seconds)
