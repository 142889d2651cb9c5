"""Composition root of the REST API: settings in; stores, queue, model and budget built (once per handler)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.api.logic import ApiService
from workers.api.model import BedrockChatModel
from workers.api.stores import (
    DynamoDBQueryStore,
    DynamoDBSessionStore,
    DynamoDBTicketReader,
    S3UploadSigner,
    SqsQueryQueue,
)
from workers.shared.bedrock import BedrockClient
from workers.shared.budgets import DynamoDBBudgetStore, TokenBudget
from workers.shared.publisher import EventBridgePublisher


class ApiSettings(BaseSettings):
    """The API function's environment, as the template sets it."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    event_bus_name: str = Field(min_length=1)
    tickets_table_name: str = Field(min_length=1)
    chat_sessions_table_name: str = Field(min_length=1)
    queries_table_name: str = Field(min_length=1)
    queries_queue_url: str = Field(min_length=1)
    budgets_table_name: str = Field(min_length=1)
    feedback_bucket_name: str | None = Field(default=None, description="Unset: feedback is inline text only.")
    upload_url_ttl_seconds: int = Field(default=900, gt=0, le=3600)
    chat_session_ttl_seconds: int = Field(default=7 * 86_400, gt=0)
    chat_max_input_tokens: int = Field(default=8_000, gt=0)
    chat_max_output_tokens: int = Field(default=1_024, gt=0)


def build_service(settings: ApiSettings | None = None) -> ApiService:
    """Wire the API from the environment; tests build an ApiService over fakes of its ports instead."""
    settings = settings or ApiSettings()
    return ApiService(
        publisher=EventBridgePublisher(settings.event_bus_name, source="supportflow.api"),
        tickets=DynamoDBTicketReader(settings.tickets_table_name),
        sessions=DynamoDBSessionStore(settings.chat_sessions_table_name, settings.chat_session_ttl_seconds),
        queries=DynamoDBQueryStore(settings.queries_table_name),
        queue=SqsQueryQueue(settings.queries_queue_url),
        model=BedrockChatModel(BedrockClient()),
        budget=TokenBudget(DynamoDBBudgetStore(settings.budgets_table_name)),
        uploads=S3UploadSigner(settings.feedback_bucket_name, settings.upload_url_ttl_seconds)
        if settings.feedback_bucket_name
        else None,
        chat_max_input_tokens=settings.chat_max_input_tokens,
        chat_max_output_tokens=settings.chat_max_output_tokens,
    )
