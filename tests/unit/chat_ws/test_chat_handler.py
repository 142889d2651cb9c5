"""The chat function's handler on fakes: events routed to the service, one sender per endpoint kept in the app."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.chat_ws.test_chat_logic import RecordingSender, StreamingModel
from tests.unit.fakes import FakeLambdaContext
from workers.chat_ws.dispatch import CORRELATION_PATH, handle_event
from workers.chat_ws.fakes import InMemoryConnectionStore, InMemorySessionStore
from workers.chat_ws.wiring import ChatApp, ChatWsSettings, build_app
from workers.shared.budgets import InMemoryBudgetStore, TokenBudget
from workers.shared.runtime.function import FunctionWorker, function_worker

SETTINGS = ChatWsSettings(connections_table_name="t", chat_sessions_table_name="t", budgets_table_name="t")


class Sockets:
    """The @connections endpoints: one recording sender per endpoint, and how often each was built."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.senders: dict[str, RecordingSender] = {}

    def sender_for(self, endpoint: str) -> RecordingSender:
        self.built.append(endpoint)
        return self.senders.setdefault(endpoint, RecordingSender())


class Chat:
    """A handler of the chat function and what the test looks into."""

    def __init__(self) -> None:
        self.sockets = Sockets()
        self.connections = InMemoryConnectionStore()
        self.handler: FunctionWorker[ChatApp] = function_worker(
            lambda: build_app(
                SETTINGS,
                connections=self.connections,
                sessions=InMemorySessionStore(),
                model=StreamingModel(),
                budget=TokenBudget(InMemoryBudgetStore()),
                sender_for=self.sockets.sender_for,
            ),
            handle_event,
            correlation_path=CORRELATION_PATH,
        )

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler(event, FakeLambdaContext())


@pytest.fixture
def chat() -> Chat:
    """The chat function on in-memory stores, a streaming fake model and recording sockets."""
    return Chat()


def _with_body(event: dict[str, Any], body: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["body"] = body
    return changed


def test_a_connected_caller_gets_the_streamed_answer_on_its_socket(
    chat: Chat, load_event: Callable[[str], dict[str, Any]]
) -> None:
    # Given a $connect with the authorizer's tenant, then a chat.send_message on that connection
    assert chat(load_event("websocket/connect.json")) == {"statusCode": 200}
    answer = chat(load_event("websocket/send_message.json"))
    # Then the frame is acknowledged and the answer streamed to the API's own @connections endpoint
    assert answer == {"statusCode": 200}
    posted = chat.sockets.senders["https://abc123.execute-api.us-east-1.amazonaws.com/prod"].posted
    assert [m["type"] for m in posted][-1] == "chat.message_complete"
    assert "chat.message_stream" in {m["type"] for m in posted}


def test_a_connect_without_the_authorizers_tenant_is_refused(
    chat: Chat, load_event: Callable[[str], dict[str, Any]]
) -> None:
    # Given a $connect that reached the function without an authorizer context
    event = load_event("websocket/connect.json")
    event["requestContext"]["authorizer"] = {}
    # When handled, Then 403 and no connection recorded
    assert chat(event) == {"statusCode": 403}
    assert chat.connections.rows == {}


@pytest.mark.parametrize("body", ["not json", json.dumps({"action": "chat.send_message"})])
def test_a_frame_that_is_not_a_send_message_is_answered_with_an_error(
    chat: Chat, load_event: Callable[[str], dict[str, Any]], body: str
) -> None:
    # Given a connected caller sending a malformed frame
    chat(load_event("websocket/connect.json"))
    chat(_with_body(load_event("websocket/send_message.json"), body))
    # Then the socket gets chat.error invalid_message and no model answer
    posted = next(iter(chat.sockets.senders.values())).posted
    assert [(m["type"], m["code"]) for m in posted] == [("chat.error", "invalid_message")]


def test_a_frame_on_an_unregistered_connection_is_answered_with_an_error(
    chat: Chat, load_event: Callable[[str], dict[str, Any]]
) -> None:
    # Given a send_message on a connection that never connected
    chat(load_event("websocket/send_message.json"))
    # Then invalid_message naming the session
    posted = next(iter(chat.sockets.senders.values())).posted
    assert [(m["type"], m["code"], m["session_id"]) for m in posted] == [("chat.error", "invalid_message", "case-4411")]


def test_one_sender_per_endpoint_is_built_and_kept_by_the_handler(
    chat: Chat, load_event: Callable[[str], dict[str, Any]]
) -> None:
    # Given events from two stages of the API, several from one
    connect = load_event("websocket/connect.json")
    other_stage = copy.deepcopy(connect)
    other_stage["requestContext"]["stage"] = "beta"
    # When handled
    for event in (connect, connect, other_stage, connect):
        chat(event)
    # Then each endpoint's sender was built once, and a second handler starts with none of them
    assert sorted(chat.sockets.built) == [
        "https://abc123.execute-api.us-east-1.amazonaws.com/beta",
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
    ]
    assert Chat().sockets.built == []


def test_a_configured_management_endpoint_is_used_for_every_event(load_event: Callable[[str], dict[str, Any]]) -> None:
    # Given the local server's @connections endpoint in the settings
    sockets = Sockets()
    settings = SETTINGS.model_copy(update={"websocket_management_endpoint": "http://127.0.0.1:9999"})
    app = build_app(
        settings,
        connections=InMemoryConnectionStore(),
        sessions=InMemorySessionStore(),
        model=StreamingModel(),
        budget=TokenBudget(InMemoryBudgetStore()),
        sender_for=sockets.sender_for,
    )
    # When an event of any domain arrives, Then the configured endpoint is the one posted to
    handle_event(app, load_event("websocket/connect.json"))
    assert sockets.built == ["http://127.0.0.1:9999"]
