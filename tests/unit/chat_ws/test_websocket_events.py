"""The sample WebSocket events parse as the function reads them, and the local server builds the same shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from supportflow.local.websocket.events import message_event, request_context
from workers.chat_ws.models import SendMessage, WebSocketEvent


def test_the_connect_sample_carries_the_authorizers_tenant_and_limits(
    load_event: Callable[[str], dict[str, Any]],
) -> None:
    # Given API Gateway's $connect event with the authorizer's context
    event = WebSocketEvent.model_validate(load_event("websocket/connect.json"))
    # Then the function reads the tenant and its limits from it
    caller = event.request_context.caller
    assert event.request_context.event_type == "CONNECT"
    assert caller is not None
    assert (caller.tenant_id, caller.daily_token_limit, caller.monthly_token_limit) == ("acme", 200000, 5000000)


def test_the_send_message_sample_parses_into_the_protocol_message(load_event: Callable[[str], dict[str, Any]]) -> None:
    # Given a chat.send_message frame as API Gateway delivers it
    event = WebSocketEvent.model_validate(load_event("websocket/send_message.json"))
    # Then its body is a SendMessage of the session
    message = SendMessage.model_validate_json(event.body or "")
    assert (message.session_id, message.route) == ("case-4411", None)


def test_the_local_server_builds_the_same_message_event_shape(load_event: Callable[[str], dict[str, Any]]) -> None:
    # Given the sample and the event the local server builds for the same frame
    sample = load_event("websocket/send_message.json")
    context = request_context(
        api_id="abc123",
        stage="prod",
        domain_name="abc123.execute-api.us-east-1.amazonaws.com",
        connection_id="Fx2kXeTNIAMCJYQ=",
        route_key="chat.send_message",
        event_type="MESSAGE",
        connected_at_ms=1795612800000,
        source_ip="203.0.113.7",
        authorizer=sample["requestContext"]["authorizer"],
    )
    built = message_event(sample["body"], context)
    # Then both have the same keys at every level the function reads, and parse alike
    assert set(built) == set(sample)
    assert set(built["requestContext"]) == set(sample["requestContext"])
    assert WebSocketEvent.model_validate(built) == WebSocketEvent.model_validate(sample)
    assert json.loads(built["body"])["action"] == "chat.send_message"
