"""Composition root of the approvals worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from workers.approvals.logic import ApprovalService, ApprovalTask
from workers.approvals.ports import ApprovalStore
from workers.approvals.store import DynamoDBApprovalStore
from workers.shared.aws import build_client
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.approvals"


class ApprovalsSettings(IdempotentWorkerSettings):
    """The approvals worker's environment, validated at cold start."""

    approvals_table_name: str = Field(min_length=1)


def build_app(
    settings: ApprovalsSettings | None = None,
    *,
    store: ApprovalStore | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[ApprovalTask]:
    """An approval task in, the token stored and ``ApprovalRequested`` out."""
    settings = settings or ApprovalsSettings()
    service = ApprovalService(
        store or DynamoDBApprovalStore(settings.approvals_table_name),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
    )
    return WorkerApp(
        handle=service.process,
        persistence=persistence
        or DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")),
        idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
    )
