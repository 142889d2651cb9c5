"""Composition root of the drafting worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from schemas.events import TicketAnalyzed
from workers.drafting.bedrock import BedrockDraftingModel
from workers.drafting.callbacks import StepFunctionsCallbacks
from workers.drafting.logic import DraftingChain, DraftingService, RetrievalPolicy
from workers.drafting.ports import DraftingModel, KnowledgeSource, TaskCallbacks
from workers.drafting.tasks import DraftTask, TaskDraftingService
from workers.shared.aws import build_client
from workers.shared.bedrock import BedrockClient
from workers.shared.knowledge import GROUNDED_MIN_SCORE, KnowledgeSettings, build_knowledge_source
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.drafting"


class DraftingSettings(IdempotentWorkerSettings):
    """The drafting worker's environment, validated at cold start."""

    # Below this a passage did not answer the question (the knowledge port's calibration).
    min_passage_score: float = Field(default=GROUNDED_MIN_SCORE, ge=0.0, le=1.0)
    passages_per_question: int = Field(default=3, ge=1, le=10)
    max_sources: int = Field(default=5, ge=1, le=20)
    max_draft_tokens: int = Field(default=700, ge=100, le=4000)


def build_chain(
    settings: DraftingSettings, model: DraftingModel | None = None, knowledge: KnowledgeSource | None = None
) -> DraftingChain:
    """The chain on the Bedrock client and the configured knowledge source, unless given."""
    policy = RetrievalPolicy(
        min_score=settings.min_passage_score,
        per_question=settings.passages_per_question,
        max_sources=settings.max_sources,
    )
    return DraftingChain(
        model or BedrockDraftingModel(BedrockClient(), settings.max_draft_tokens),
        knowledge or build_knowledge_source(KnowledgeSettings()),
        policy,
    )


def _persistence(settings: DraftingSettings, persistence: BasePersistenceLayer | None) -> BasePersistenceLayer:
    return persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )


def build_app(
    settings: DraftingSettings | None = None,
    *,
    model: DraftingModel | None = None,
    knowledge: KnowledgeSource | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[TicketAnalyzed]:
    """The bus path: ``TicketAnalyzed`` (not escalated) in, ``ResponseDrafted`` out."""
    settings = settings or DraftingSettings()
    service = DraftingService(
        build_chain(settings, model, knowledge),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
    )
    return WorkerApp(
        handle=service.process,
        persistence=_persistence(settings, persistence),
        idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
    )


def build_task_app(
    settings: DraftingSettings | None = None,
    *,
    model: DraftingModel | None = None,
    knowledge: KnowledgeSource | None = None,
    publisher: EventPublisher | None = None,
    callbacks: TaskCallbacks | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[DraftTask]:
    """The Step Functions path: a task message in, ``ResponseDrafted`` out and the task answered."""
    settings = settings or DraftingSettings()
    service = TaskDraftingService(
        build_chain(settings, model, knowledge),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        callbacks or StepFunctionsCallbacks(),
    )
    return WorkerApp(
        handle=service.process,
        persistence=_persistence(settings, persistence),
        idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
    )
