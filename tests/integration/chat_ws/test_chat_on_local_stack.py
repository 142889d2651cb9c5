"""The template's WebSocket chat as the local stack serves it: a process of its own, the emulator's tables."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from supportflow.local.stack import EmulatedStack
from tests.integration.chat_ws.conftest import receive_turn, send_message
from workers.authorizer.tenants import DynamoDBTenantDirectory, Tenant


@pytest.fixture(scope="module")
def chat_stack() -> Iterator[EmulatedStack]:
    """template.yaml deployed with its APIs served and the offline Bedrock, no queue workers."""
    with EmulatedStack.start(stage=f"ws-{uuid.uuid4().hex[:6]}", workers=False) as stack:
        yield stack


@pytest.fixture(scope="module")
def api_key(chat_stack: EmulatedStack) -> str:
    """A tenant registered in the stack's TenantsTable, and its key."""
    key = f"key-{uuid.uuid4().hex}"
    directory = DynamoDBTenantDirectory(chat_stack.outputs["TenantsTableName"], client=chat_stack.client("dynamodb"))
    directory.register(Tenant(tenant_id="acme", daily_token_limit=50_000, monthly_token_limit=500_000), key)
    return key


def test_the_stack_serves_the_chat_url_and_streams_an_answer(chat_stack: EmulatedStack, api_key: str) -> None:
    # Given the stack's ChatWebSocketUrl output, local now
    url = chat_stack.outputs["ChatWebSocketUrl"]
    assert url == chat_stack.websockets["ChatWebSocketApi"].url
    # When a client connects with the tenant's key and asks
    with connect(url, additional_headers={"x-api-key": api_key}, open_timeout=10) as socket:
        send_message(socket, "stack-1", "How do I change my delivery address?")
        turn = receive_turn(socket, timeout=60)
    # Then the answer streamed and completed, and the turn is in the emulator's ChatSessionsTable
    assert [m["type"] for m in turn][-1] == "chat.message_complete"
    assert any(m["type"] == "chat.message_stream" for m in turn)
    item = chat_stack.client("dynamodb").get_item(
        TableName=chat_stack.outputs["ChatSessionsTableName"], Key={"session_id": {"S": "stack-1"}}
    )["Item"]
    assert item["tenant_id"]["S"] == "acme"
    assert len(item["turns"]["L"]) == 2


def test_the_connection_row_lives_while_connected_and_goes_after(chat_stack: EmulatedStack, api_key: str) -> None:
    table = chat_stack.outputs["ConnectionsTableName"]
    dynamodb = chat_stack.client("dynamodb")
    # Given a connected client
    with connect(chat_stack.outputs["ChatWebSocketUrl"], additional_headers={"x-api-key": api_key}) as socket:
        socket.send(json.dumps({"action": "chat.unknown"}))
        assert json.loads(socket.recv(timeout=30))["code"] == "invalid_message"
        # Then one connection row names the tenant
        rows = dynamodb.scan(TableName=table)["Items"]
        assert [r["tenant_id"]["S"] for r in rows] == ["acme"]
    # And after it closes the row is deleted ($disconnect)
    assert chat_stack.websockets["ChatWebSocketApi"].process is not None
    for _ in range(100):
        if not dynamodb.scan(TableName=table)["Items"]:
            break
        time.sleep(0.1)
    assert dynamodb.scan(TableName=table)["Items"] == []


def test_an_unknown_key_is_refused_at_connect(chat_stack: EmulatedStack) -> None:
    # When a client connects with a key no tenant owns, Then the authorizer's Unauthorized is a 401
    with pytest.raises(InvalidStatus) as refused:
        connect(chat_stack.outputs["ChatWebSocketUrl"], additional_headers={"x-api-key": "nobody"}, open_timeout=10)
    assert refused.value.response.status_code == 401
