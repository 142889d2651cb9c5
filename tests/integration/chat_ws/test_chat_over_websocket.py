"""The chat protocol through a real WebSocket client against the local WebSocket API and offline Bedrock."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from supportflow.bedrock_offline.server import OfflineBedrock
from tests.integration.chat_ws.conftest import LIMITS, ChatApi, receive_turn, send_message


def _wait_until(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.05)
    return False


def test_an_answer_streams_in_chunks_then_completes_with_usage_and_is_kept_in_the_session(chat_api: ChatApi) -> None:
    # Given a connected client of tenant acme
    with chat_api.connect("key-acme") as socket:
        # When it asks a question
        send_message(socket, "s-stream", "How do I reset my password?")
        turn = receive_turn(socket)
    # Then several chunks stream before one completion with usage and cost
    chunks = [m for m in turn if m["type"] == "chat.message_stream"]
    complete = turn[-1]
    assert len(chunks) > 1
    assert complete["type"] == "chat.message_complete"
    assert complete["usage"]["output_tokens"] > 0
    assert complete["usage"]["total_tokens"] == complete["usage"]["input_tokens"] + complete["usage"]["output_tokens"]
    assert complete["cost_usd"] > 0
    # And the session holds the question and exactly the streamed answer
    history = chat_api.sessions.history("acme", "s-stream")
    assert [t.role for t in history] == ["user", "assistant"]
    assert history[1].text == "".join(c["delta"] for c in chunks)
    # And the tenant's budget was charged with the actual usage only
    assert chat_api.budget.remaining("acme", LIMITS).daily == LIMITS.daily - complete["usage"]["total_tokens"]


def test_a_second_turn_sends_the_history_to_the_model(chat_api: ChatApi) -> None:
    # Given a session with one answered turn
    with chat_api.connect() as socket:
        send_message(socket, "s-history", "My order 1234 has not arrived.")
        first = receive_turn(socket)[-1]
        # When a second turn is sent on the same session
        send_message(socket, "s-history", "Can you check it again?")
        second = receive_turn(socket)[-1]
    # Then the second call read more input (the earlier turns) and the session has four turns
    assert second["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    assert len(chat_api.sessions.history("acme", "s-history")) == 4


def test_a_tenant_over_budget_is_denied_at_connect_while_another_is_served(chat_api: ChatApi) -> None:
    # Given acme has spent its daily budget
    chat_api.budget.settle(chat_api.budget.reserve("acme", LIMITS.daily, LIMITS), LIMITS.daily)
    # When acme connects, Then the handshake is refused with 403 and no connection is recorded
    with pytest.raises(InvalidStatus) as refused:
        chat_api.connect("key-acme")
    assert refused.value.response.status_code == 403
    assert chat_api.connections.rows == {}
    # And globex is still served
    with chat_api.connect("key-globex") as socket:
        send_message(socket, "s-globex", "Hello?")
        assert receive_turn(socket)[-1]["type"] == "chat.message_complete"


def test_an_unknown_api_key_is_refused_with_401(chat_api: ChatApi) -> None:
    # When a client connects with a key no tenant owns, Then API Gateway answers 401
    with pytest.raises(InvalidStatus) as refused:
        chat_api.connect("key-nobody")
    assert refused.value.response.status_code == 401


def test_a_connect_without_the_key_header_is_refused_before_the_authorizer(chat_api: ChatApi) -> None:
    # When a client connects with no x-api-key header, Then API Gateway answers 401 (the identity source is missing)
    with pytest.raises(InvalidStatus) as refused:
        connect(chat_api.gateway.url, open_timeout=10)
    assert refused.value.response.status_code == 401


def test_a_budget_spent_while_connected_is_a_protocol_error(chat_api: ChatApi) -> None:
    # Given a connected client whose tenant then spends nearly all of its budget elsewhere
    with chat_api.connect("key-acme") as socket:
        chat_api.budget.settle(chat_api.budget.reserve("acme", LIMITS.daily - 10, LIMITS), LIMITS.daily - 10)
        # When it sends a message
        send_message(socket, "s-spent", "Another question")
        turn = receive_turn(socket)
    # Then the answer is one chat.error naming the budget, and no model call streamed
    assert [m["type"] for m in turn] == ["chat.error"]
    assert turn[0]["code"] == "budget_exhausted"


def test_a_throttle_mid_stream_ends_with_a_protocol_error_not_a_hang(
    chat_api: ChatApi, offline_bedrock: OfflineBedrock
) -> None:
    # Given every ConverseStream is throttled after two deltas, on every model of the route
    offline_bedrock.faults.add({"fault": "stream-throttle", "operation": "ConverseStream", "after": 2})
    with chat_api.connect() as socket:
        # When a message is sent
        send_message(socket, "s-throttle", "Tell me about refunds")
        turn = receive_turn(socket, timeout=20)
    # Then some chunks arrived, retries were announced, and the turn ends with a throttled error
    types = [m["type"] for m in turn]
    assert "chat.message_stream" in types
    assert "chat.message_reset" in types
    assert turn[-1]["type"] == "chat.error"
    assert turn[-1]["code"] == "throttled"
    # And nothing was kept in the session nor charged
    assert chat_api.sessions.history("acme", "s-throttle") == []
    assert chat_api.budget.remaining("acme", LIMITS).daily == LIMITS.daily


def test_a_client_that_disconnects_mid_stream_is_cleaned_up(chat_api: ChatApi) -> None:
    # Given a model that streams slowly (50 ms a chunk) and a connected client
    chat_api.model.pace_s = 0.05
    with chat_api.connect() as socket:
        assert _wait_until(lambda: len(chat_api.connections.rows) == 1)
        # When it sends a message and goes away as soon as the first chunk arrives
        send_message(socket, "s-gone", "Explain the warranty terms in detail, please.")
        assert '"chat.message_stream"' in str(socket.recv(timeout=20))
    # Then, once the function has stopped, its connection row is deleted
    assert chat_api.gateway.wait_idle(timeout=20)
    assert chat_api.connections.rows == {}
    # And the stream was abandoned: no half answer was kept in the session
    assert chat_api.sessions.history("acme", "s-gone") == []


def test_a_malformed_message_is_a_protocol_error_and_the_connection_stays_open(chat_api: ChatApi) -> None:
    # Given a connected client
    with chat_api.connect() as socket:
        # When it sends a frame that is not a chat.send_message
        socket.send('{"action": "chat.send_message", "session_id": "s"}')
        error = receive_turn(socket)[-1]
        # Then it gets an invalid_message error and can still chat
        send_message(socket, "s-after", "Hello")
        complete = receive_turn(socket)[-1]
    assert error["code"] == "invalid_message"
    assert complete["type"] == "chat.message_complete"
