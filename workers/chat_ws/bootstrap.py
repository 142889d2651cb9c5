"""Composition root of the WebSocket chat: settings, tables, the Bedrock client, one sender per endpoint."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.chat_ws.logic import ChatConfig, ChatService
from workers.chat_ws.ports import ChatModel, ConnectionSender, ConnectionStore, SessionStore
from workers.chat_ws.sender import ManagementApiSender
from workers.chat_ws.store import DynamoDBConnectionStore, DynamoDBSessionStore
from workers.shared.aws import DEFAULT_RETRY_CONFIG
from workers.shared.bedrock import BedrockClient
from workers.shared.budgets import DynamoDBBudgetStore, TokenBudget


class ChatWsSettings(BaseSettings):
    """The function's environment, as the template sets it."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    connections_table_name: str = Field(min_length=1)
    chat_sessions_table_name: str = Field(min_length=1)
    budgets_table_name: str = Field(min_length=1)
    chat_session_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    chat_max_output_tokens: int = Field(default=1024, gt=0)
    chat_max_input_tokens: int = Field(default=8_000, gt=0)
    # Set locally (the local WebSocket server's @connections endpoint); on AWS it is https://{domain}/{stage}.
    websocket_management_endpoint: str | None = None


class _Parts:
    """What one cold start builds; the sender depends on the endpoint the event names."""

    def __init__(
        self,
        settings: ChatWsSettings,
        *,
        connections: ConnectionStore | None = None,
        sessions: SessionStore | None = None,
        model: ChatModel | None = None,
        budget: TokenBudget | None = None,
    ) -> None:
        self.settings = settings
        self.connections = connections or DynamoDBConnectionStore(settings.connections_table_name)
        self.sessions = sessions or DynamoDBSessionStore(
            settings.chat_sessions_table_name, settings.chat_session_ttl_seconds
        )
        self.model = model or BedrockClient()
        self.budget = budget or TokenBudget(DynamoDBBudgetStore(settings.budgets_table_name))
        self.config = ChatConfig(
            max_output_tokens=settings.chat_max_output_tokens,
            max_input_tokens=settings.chat_max_input_tokens,
        )


_parts: _Parts | None = None
_senders: dict[str, ConnectionSender] = {}


def install(parts: Any = None, senders: dict[str, ConnectionSender] | None = None) -> None:
    """Install prebuilt parts (tests), or clear them so the next call builds from the environment."""
    global _parts  # noqa: PLW0603  (one composition root per cold start)
    _parts = parts
    _senders.clear()
    _senders.update(senders or {})


def build_parts(settings: ChatWsSettings | None = None, **overrides: Any) -> _Parts:
    """The parts from the environment, with any of connections/sessions/model/budget given instead."""
    return _Parts(settings or ChatWsSettings(), **overrides)


@cache
def _management_client(endpoint: str) -> Any:
    return build_client_for_endpoint(endpoint)


def build_client_for_endpoint(endpoint: str) -> Any:
    """An unmodified boto3 ``apigatewaymanagementapi`` client for ``endpoint``, with the shared retries."""
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=DEFAULT_RETRY_CONFIG)


def get_service(domain_name: str, stage: str) -> ChatService:
    """The service for an event of the API at ``domain_name``/``stage`` (built once per endpoint)."""
    global _parts  # noqa: PLW0603
    if _parts is None:
        _parts = build_parts()
    endpoint = _parts.settings.websocket_management_endpoint or f"https://{domain_name}/{stage}"
    sender = _senders.get(endpoint)
    if sender is None:
        sender = _senders[endpoint] = ManagementApiSender(_management_client(endpoint))
    return ChatService(
        connections=_parts.connections,
        sessions=_parts.sessions,
        sender=sender,
        model=_parts.model,
        budget=_parts.budget,
        config=_parts.config,
    )
