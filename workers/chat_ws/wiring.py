"""Composition root of the WebSocket chat: settings in; tables, the Bedrock client and the budget built once.

The app a cold start builds also keeps one ``@connections`` sender per endpoint (each event names its API's
domain and stage), so the client for an endpoint is built once, in the app, not in a module cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

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

# Builds the sender for one @connections endpoint (https://{domain}/{stage}, or the local server's).
SenderFactory = Callable[[str], ConnectionSender]


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


def management_api_sender(endpoint: str) -> ConnectionSender:
    """A sender over an unmodified boto3 ``apigatewaymanagementapi`` client for ``endpoint``, shared retries."""
    return ManagementApiSender(
        boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=DEFAULT_RETRY_CONFIG)
    )


class ChatApp:
    """What one cold start builds: the stores, the model and the budget, and a sender per endpoint."""

    def __init__(
        self,
        *,
        connections: ConnectionStore,
        sessions: SessionStore,
        model: ChatModel,
        budget: TokenBudget,
        config: ChatConfig,
        management_endpoint: str | None = None,
        sender_for: SenderFactory = management_api_sender,
    ) -> None:
        self._connections = connections
        self._sessions = sessions
        self._model = model
        self._budget = budget
        self._config = config
        self._management_endpoint = management_endpoint
        self._sender_for = sender_for
        self._senders: dict[str, ConnectionSender] = {}
        self._senders_lock = threading.Lock()

    def service_for(self, domain_name: str, stage: str) -> ChatService:
        """The chat service for an event of the API at ``domain_name``/``stage``."""
        endpoint = self._management_endpoint or f"https://{domain_name}/{stage}"
        with self._senders_lock:
            sender = self._senders.get(endpoint)
            if sender is None:
                sender = self._senders[endpoint] = self._sender_for(endpoint)
        return ChatService(
            connections=self._connections,
            sessions=self._sessions,
            sender=sender,
            model=self._model,
            budget=self._budget,
            config=self._config,
        )


def build_app(
    settings: ChatWsSettings | None = None,
    *,
    connections: ConnectionStore | None = None,
    sessions: SessionStore | None = None,
    model: ChatModel | None = None,
    budget: TokenBudget | None = None,
    sender_for: SenderFactory = management_api_sender,
) -> ChatApp:
    """Wire the chat from the environment; pass fakes or emulator-bound adapters in tests."""
    settings = settings or ChatWsSettings()
    return ChatApp(
        connections=connections or DynamoDBConnectionStore(settings.connections_table_name),
        sessions=sessions or DynamoDBSessionStore(settings.chat_sessions_table_name, settings.chat_session_ttl_seconds),
        model=model or BedrockClient(),
        budget=budget or TokenBudget(DynamoDBBudgetStore(settings.budgets_table_name)),
        config=ChatConfig(
            max_output_tokens=settings.chat_max_output_tokens, max_input_tokens=settings.chat_max_input_tokens
        ),
        management_endpoint=settings.websocket_management_endpoint,
        sender_for=sender_for,
    )
