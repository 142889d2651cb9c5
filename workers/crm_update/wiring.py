"""Composition root of the CRM update worker: settings in, the CRM client and key provider built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import Field

from schemas.bus import BusEvent
from schemas.events import FeedbackAnalyzed
from workers.crm_update.feedback import FeedbackCrmService
from workers.crm_update.http_crm import ApiKeySource, HttpCrm, HttpPolicy
from workers.crm_update.logic import ConflictPolicy, CrmUpdateService
from workers.crm_update.port import CrmPort
from workers.shared.aws import build_client
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.crm-update"


class CrmUpdateSettings(IdempotentWorkerSettings):
    """The CRM update worker's environment, validated at cold start."""

    crm_base_url: str = Field(min_length=1, pattern=r"^https?://")
    crm_api_key_secret: str = Field(min_length=1, description="Secrets Manager name or ARN of the x-api-key.")
    crm_api_key_max_age_seconds: int = Field(default=300, ge=0)
    crm_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    crm_read_timeout_seconds: float = Field(default=5.0, gt=0)
    crm_retry_attempts: int = Field(default=3, ge=1, le=10)
    crm_retry_backoff_seconds: float = Field(default=0.5, ge=0)
    version_conflict_attempts: int = Field(default=5, ge=1, le=50)


def secret_api_key(settings: CrmUpdateSettings, provider: SecretsProvider | None = None) -> ApiKeySource:
    """The API key from Secrets Manager through Powertools Parameters, cached for ``max_age`` unless forced."""
    secrets = provider or SecretsProvider(boto3_client=build_client("secretsmanager"))

    def api_key(*, force_fetch: bool = False) -> str:
        return str(
            secrets.get(
                settings.crm_api_key_secret, max_age=settings.crm_api_key_max_age_seconds, force_fetch=force_fetch
            )
        )

    return api_key


def build_app(
    settings: CrmUpdateSettings | None = None,
    *,
    crm: CrmPort | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[BusEvent]:
    """Wire the worker (TicketAnalyzed, ResponseDrafted, EscalationResolved in); fakes or emulator adapters in tests."""
    settings = settings or CrmUpdateSettings()
    crm = crm or HttpCrm(
        settings.crm_base_url,
        secret_api_key(settings),
        HttpPolicy(
            connect_timeout_seconds=settings.crm_connect_timeout_seconds,
            read_timeout_seconds=settings.crm_read_timeout_seconds,
            attempts=settings.crm_retry_attempts,
            backoff_seconds=settings.crm_retry_backoff_seconds,
        ),
    )
    service = CrmUpdateService(
        crm,
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        ConflictPolicy(attempts=settings.version_conflict_attempts),
    )
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    return WorkerApp(
        handle=service.process, persistence=persistence, idempotency_ttl_seconds=settings.idempotency_ttl_seconds
    )


def build_feedback_app(
    settings: CrmUpdateSettings | None = None,
    *,
    crm: CrmPort | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[FeedbackAnalyzed]:
    """``FeedbackAnalyzed`` in: the feedback attached to its customer's record, ``CrmRecordUpdated`` out."""
    settings = settings or CrmUpdateSettings()
    crm = crm or HttpCrm(
        settings.crm_base_url,
        secret_api_key(settings),
        HttpPolicy(
            connect_timeout_seconds=settings.crm_connect_timeout_seconds,
            read_timeout_seconds=settings.crm_read_timeout_seconds,
            attempts=settings.crm_retry_attempts,
            backoff_seconds=settings.crm_retry_backoff_seconds,
        ),
    )
    service = FeedbackCrmService(crm, publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE))
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    return WorkerApp(
        handle=service.attach, persistence=persistence, idempotency_ttl_seconds=settings.idempotency_ttl_seconds
    )
