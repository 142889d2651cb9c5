"""The optional response cache, on a real DynamoDB table in the emulator."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from supportflow.bedrock_offline.server import OfflineBedrock
from supportflow.local import EmulatedStack
from workers.shared.bedrock import BedrockClient, BedrockSettings, DynamoDBResponseCache, NullMetrics

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

pytestmark = pytest.mark.integration


@pytest.fixture
def cache_table(local_stack: EmulatedStack) -> str:
    name = f"bedrock-cache-{uuid.uuid4().hex[:8]}"
    local_stack.clients.dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_identical_single_turn_request_is_served_from_the_table(
    local_stack: EmulatedStack,
    cache_table: str,
    server: OfflineBedrock,
    boto_client: BedrockRuntimeClient,
    settings: BedrockSettings,
) -> None:
    # Given a client whose cache is a DynamoDB table in the emulator
    clock = [1_000_000.0]
    cache = DynamoDBResponseCache(cache_table, client=local_stack.clients.dynamodb, clock=lambda: clock[0])
    chosen = settings.model_copy(update={"cache_enabled": True, "cache_table": cache_table, "cache_ttl_s": 60})
    client_with_cache = BedrockClient(boto_client, chosen, NullMetrics(), cache=cache)
    question: list[Any] = [{"role": "user", "content": "Where can I download my invoice?"}]

    # When the same single-turn request is made twice
    first = client_with_cache.converse("classification", question)
    second = client_with_cache.converse("classification", question)

    # Then the second answer comes from the table, the model is called once, and the item has a TTL
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text
    assert server.request_count(operation="Converse") == 1
    items = local_stack.clients.dynamodb.scan(TableName=cache_table)["Items"]
    assert len(items) == 1 and int(items[0]["expires_at"]["N"]) == 1_000_060

    # And once the TTL has passed the model is asked again (DynamoDB deletes expired items lazily)
    clock[0] += 61
    assert client_with_cache.converse("classification", question).cached is False
    assert server.request_count(operation="Converse") == 2
