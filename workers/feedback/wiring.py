"""Composition root of the feedback worker: settings in, adapters built once per cold start."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from schemas.bus import BusEvent
from workers.feedback.adapters import (
    BedrockDataAutomation,
    DynamoJobStore,
    S3Objects,
    StepFunctionsCallbacks,
    StepFunctionsExecutions,
)
from workers.feedback.analysis import FeedbackAnalyst
from workers.feedback.correlator import CompletionCorrelator
from workers.feedback.intake import FeedbackIntake, IntakeSettings
from workers.feedback.models import FeedbackTask
from workers.feedback.ports import DataAutomation, Executions, JobStore, ObjectStore, TaskCallbacks
from workers.feedback.tasks import FeedbackTasks, JobSettings
from workers.shared.aws import build_client
from workers.shared.bedrock import BedrockClient
from workers.shared.publisher import EventBridgePublisher, EventPublisher
from workers.shared.runtime.worker import WorkerApp
from workers.shared.sentiment import BedrockSentimentAnalyzer, SentimentAnalyzer
from workers.shared.settings import IdempotentWorkerSettings

EVENT_SOURCE = "supportflow.feedback"


class FeedbackSettings(IdempotentWorkerSettings):
    """The feedback worker's environment, validated at cold start."""

    feedback_bucket_name: str = Field(min_length=3)
    feedback_jobs_table_name: str = Field(min_length=1)
    data_automation_profile_arn: str = Field(pattern=r"^arn:aws[a-z-]*:bedrock:")
    data_automation_project_arn: str | None = None
    data_automation_blueprint_arns: str = Field(default="", description="Comma-separated, instead of a project.")
    data_automation_stage: str = "LIVE"
    output_prefix: str = "bda-output/"
    inline_max_chars: int = Field(default=2000, ge=0, le=100_000)
    max_analysis_chars: int = Field(default=8000, ge=100, le=100_000)


class FeedbackIntakeSettings(FeedbackSettings):
    """The intake also starts the state machine."""

    feedback_state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:")


def _persistence(settings: FeedbackSettings, persistence: BasePersistenceLayer | None) -> BasePersistenceLayer:
    return persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )


def _analyst(settings: FeedbackSettings, analyzer: SentimentAnalyzer | None) -> FeedbackAnalyst:
    return FeedbackAnalyst(analyzer or BedrockSentimentAnalyzer(BedrockClient()), settings.max_analysis_chars)


def _automation(settings: FeedbackSettings) -> BedrockDataAutomation:
    blueprints = tuple(arn.strip() for arn in settings.data_automation_blueprint_arns.split(",") if arn.strip())
    return BedrockDataAutomation(
        settings.data_automation_profile_arn,
        project_arn=settings.data_automation_project_arn or None,
        blueprint_arns=blueprints,
        stage=settings.data_automation_stage,
    )


def build_intake_app(
    settings: FeedbackIntakeSettings | None = None,
    *,
    analyzer: SentimentAnalyzer | None = None,
    executions: Executions | None = None,
    objects: ObjectStore | None = None,
    publisher: EventPublisher | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[BusEvent]:
    """``FeedbackReceived`` or an uploaded object in; an execution started or ``FeedbackAnalyzed`` out."""
    settings = settings or FeedbackIntakeSettings()
    intake = FeedbackIntake(
        _analyst(settings, analyzer),
        executions or StepFunctionsExecutions(settings.feedback_state_machine_arn),
        objects or S3Objects(),
        publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        IntakeSettings(bucket=settings.feedback_bucket_name, inline_max_chars=settings.inline_max_chars),
    )
    return WorkerApp(intake.process, _persistence(settings, persistence), settings.idempotency_ttl_seconds)


def build_task_app(
    settings: FeedbackSettings | None = None,
    *,
    automation: DataAutomation | None = None,
    jobs: JobStore | None = None,
    objects: ObjectStore | None = None,
    analyzer: SentimentAnalyzer | None = None,
    publisher: EventPublisher | None = None,
    callbacks: TaskCallbacks | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[FeedbackTask]:
    """The state machine's tasks: invoke, poll, results, fail."""
    settings = settings or FeedbackSettings()
    tasks = FeedbackTasks(
        automation=automation or _automation(settings),
        jobs=jobs or DynamoJobStore(settings.feedback_jobs_table_name),
        objects=objects or S3Objects(),
        analyst=_analyst(settings, analyzer),
        publisher=publisher or EventBridgePublisher(settings.event_bus_name, EVENT_SOURCE),
        callbacks=callbacks or StepFunctionsCallbacks(),
        settings=JobSettings(output_prefix_uri=f"s3://{settings.feedback_bucket_name}/{settings.output_prefix}"),
    )
    return WorkerApp(tasks.process, _persistence(settings, persistence), settings.idempotency_ttl_seconds)


def build_correlator_app(
    settings: FeedbackSettings | None = None,
    *,
    automation: DataAutomation | None = None,
    jobs: JobStore | None = None,
    callbacks: TaskCallbacks | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[BusEvent]:
    """Completion events in; the waiting task answered."""
    settings = settings or FeedbackSettings()
    correlator = CompletionCorrelator(
        automation or _automation(settings),
        jobs or DynamoJobStore(settings.feedback_jobs_table_name),
        callbacks or StepFunctionsCallbacks(),
    )
    return WorkerApp(correlator.process, _persistence(settings, persistence), settings.idempotency_ttl_seconds)
