"""The chat function behind the local WebSocket API, on the session's offline Bedrock.

The connections and sessions are the in-memory stores (the DynamoDB adapters have unit tests on moto);
the budget is the shared TokenBudget on its in-memory store; $connect runs the project's authorizer
(workers.authorizer) over an in-memory tenant directory with two tenants and their API keys.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from websockets.sync.client import ClientConnection, connect

from supportflow.bedrock_offline.server import OfflineBedrock
from supportflow.local.websocket import WebSocketApiSpec, WebSocketGateway
from tests.constants import TEST_ENVIRONMENT
from workers.authorizer.logic import Authorizer
from workers.authorizer.policy import authorize
from workers.authorizer.tenants import InMemoryTenantDirectory, Tenant
from workers.chat_ws.dispatch import CORRELATION_PATH, handle_event
from workers.chat_ws.fakes import InMemoryConnectionStore, InMemorySessionStore
from workers.chat_ws.wiring import ChatApp, ChatWsSettings, build_app
from workers.shared.bedrock import BedrockClient, BedrockSettings, NullMetrics, Result, StreamListener, XRayTracer
from workers.shared.bedrock.runtime import botocore_config
from workers.shared.budgets import BudgetLimits, InMemoryBudgetStore, TokenBudget
from workers.shared.runtime.function import function_worker

LIMITS = BudgetLimits(daily=20_000, monthly=100_000)
TENANTS = {"key-acme": "acme", "key-globex": "globex"}
FAULT_HEADER = "x-supportflow-fault"


class FaultHeader:
    """Adds ``x-supportflow-fault`` to every Bedrock request while set."""

    def __init__(self) -> None:
        self.value: str | None = None

    def __call__(self, request: Any, **_: Any) -> None:
        if self.value:
            request.headers[FAULT_HEADER] = self.value


class PacedModel:
    """The Bedrock client, with a pause before each delta while ``pace_s`` is set: a model that streams slowly."""

    def __init__(self, client: BedrockClient) -> None:
        self.client = client
        self.pace_s = 0.0

    def converse_stream(self, task: str, messages: Sequence[Any], **kwargs: Any) -> Result[str]:
        listener = kwargs.pop("listener", None)
        paced = _PacedListener(listener, self) if listener is not None else None
        return self.client.converse_stream(task, messages, listener=paced, **kwargs)


class _PacedListener:
    def __init__(self, listener: StreamListener, model: PacedModel) -> None:
        self._listener = listener
        self._model = model

    def on_text(self, delta: str) -> None:
        time.sleep(self._model.pace_s)
        self._listener.on_text(delta)

    def on_restart(self, attempt: int) -> None:
        self._listener.on_restart(attempt)


@dataclass
class ChatApi:
    """The served API and what the tests look into."""

    gateway: WebSocketGateway
    connections: InMemoryConnectionStore
    sessions: InMemorySessionStore
    budget: TokenBudget
    fault: FaultHeader
    model: PacedModel

    def connect(self, api_key: str = "key-acme") -> ClientConnection:
        """A real WebSocket client, connected with an API key."""
        return connect(self.gateway.url, additional_headers={"x-api-key": api_key}, open_timeout=10)


def send_message(socket: ClientConnection, session_id: str, message: str) -> None:
    """Send one ``chat.send_message``."""
    socket.send(json.dumps({"action": "chat.send_message", "session_id": session_id, "message": message}))


def receive_turn(socket: ClientConnection, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Messages until ``chat.message_complete`` or ``chat.error`` (a hang fails on the timeout)."""
    received: list[dict[str, Any]] = []
    while True:
        message = json.loads(socket.recv(timeout=timeout))
        received.append(message)
        if message["type"] in ("chat.message_complete", "chat.error"):
            return received


@pytest.fixture
def chat_api(offline_bedrock: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatApi]:
    for key, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    offline_bedrock.faults.clear()
    fault = FaultHeader()
    settings = BedrockSettings(total_max_attempts=2, stream_retry_initial_wait_s=0.01, stream_retry_max_wait_s=0.02)
    runtime = boto3.client("bedrock-runtime", endpoint_url=offline_bedrock.url, config=botocore_config(settings))
    runtime.meta.events.register("before-sign.bedrock-runtime.*", fault)
    budget = TokenBudget(InMemoryBudgetStore())
    spec = WebSocketApiSpec(
        name="ChatWebSocketApi",
        api_id="localws",
        stage="test",
        routes=frozenset({"chat.send_message"}),
        identity_sources=("route.request.header.x-api-key",),
    )
    tenants = InMemoryTenantDirectory()
    for api_key, tenant_id in TENANTS.items():
        tenants.add(
            Tenant(tenant_id=tenant_id, daily_token_limit=LIMITS.daily, monthly_token_limit=LIMITS.monthly), api_key
        )
    authorizer = Authorizer(tenants, budget)
    connections, sessions = InMemoryConnectionStore(), InMemorySessionStore()
    model = PacedModel(BedrockClient(runtime, settings, NullMetrics(), tracer=XRayTracer()))

    def build_chat() -> ChatApp:
        # Built at the first event, once the gateway has started and knows its @connections endpoint.
        chat_settings = ChatWsSettings(
            connections_table_name="unused",
            chat_sessions_table_name="unused",
            budgets_table_name="unused",
            websocket_management_endpoint=gateway.management_endpoint,
        )
        return build_app(chat_settings, connections=connections, sessions=sessions, model=model, budget=budget)

    chat = function_worker(build_chat, handle_event, service="chat-ws", correlation_path=CORRELATION_PATH)
    gateway = WebSocketGateway(
        spec, chat, authorizer=function_worker(lambda: authorizer, authorize, service="api-authorizer")
    )
    gateway.start()
    try:
        yield ChatApi(gateway, connections, sessions, budget, fault, model)
    finally:
        gateway.stop()
        # The last $disconnect runs on this fixture's handler before its stores go.
        gateway.wait_idle(5)
        offline_bedrock.faults.clear()
