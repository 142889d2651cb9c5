"""The connections and sessions tables on moto's in-process DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from workers.chat_ws.ports import Connection, Turn
from workers.chat_ws.store import DynamoDBConnectionStore, DynamoDBSessionStore
from workers.shared.budgets import BudgetLimits


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for table, key in (("connections", "connection_id"), ("sessions", "session_id")):
            client.create_table(
                TableName=table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            )
        yield client


def test_a_connection_round_trips_with_its_limits_and_is_deleted(dynamodb: Any) -> None:
    # Given a recorded connection
    store = DynamoDBConnectionStore("connections", client=dynamodb)
    store.put(Connection("c1", "acme", BudgetLimits(daily=10, monthly=100)))
    # Then it reads back whole, and after delete (twice) it is absent
    assert store.get("c1") == Connection("c1", "acme", BudgetLimits(daily=10, monthly=100))
    store.delete("c1")
    store.delete("c1")
    assert store.get("c1") is None


def test_sessions_keep_turns_in_order_and_stay_with_their_tenant(dynamodb: Any) -> None:
    # Given a session of acme with two appends
    store = DynamoDBSessionStore("sessions", ttl_seconds=60, client=dynamodb)
    store.append("acme", "s1", [Turn("user", "hi"), Turn("assistant", "hello")])
    store.append("acme", "s1", [Turn("user", "again")])
    # Then acme reads all three in order, globex reads nothing and cannot write into it
    assert [t.text for t in store.history("acme", "s1")] == ["hi", "hello", "again"]
    assert store.history("globex", "s1") == []
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        store.append("globex", "s1", [Turn("user", "intrude")])
