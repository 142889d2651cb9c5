"""DynamoDB adapters: the connections table and the chat sessions table."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from workers.chat_ws.ports import Connection, Turn
from workers.shared.aws import build_client
from workers.shared.budgets import BudgetLimits

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A connection row outlives any API Gateway connection (2 h maximum), so a missed $disconnect expires.
CONNECTION_TTL_SECONDS = 3 * 3600


class DynamoDBConnectionStore:
    """Connections keyed by ``connection_id``, with the tenant and an expiry."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def put(self, connection: Connection) -> None:
        """Record a connection."""
        self._client.put_item(
            TableName=self._table,
            Item={
                "connection_id": {"S": connection.connection_id},
                "tenant_id": {"S": connection.tenant_id},
                "daily_token_limit": {"N": str(connection.limits.daily)},
                "monthly_token_limit": {"N": str(connection.limits.monthly)},
                "expires_at": {"N": str(int(time.time()) + CONNECTION_TTL_SECONDS)},
            },
        )

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None."""
        item = self._client.get_item(
            TableName=self._table, Key={"connection_id": {"S": connection_id}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        limits = BudgetLimits(daily=int(item["daily_token_limit"]["N"]), monthly=int(item["monthly_token_limit"]["N"]))
        return Connection(connection_id=connection_id, tenant_id=item["tenant_id"]["S"], limits=limits)

    def delete(self, connection_id: str) -> None:
        """Forget a connection."""
        self._client.delete_item(TableName=self._table, Key={"connection_id": {"S": connection_id}})


class DynamoDBSessionStore:
    """Chat sessions keyed by ``session_id``, scoped to the tenant, with their turns and a TTL."""

    def __init__(self, table_name: str, ttl_seconds: int, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._ttl = ttl_seconds
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def history(self, tenant_id: str, session_id: str) -> list[Turn]:
        """The turns so far (another tenant's session of the same id reads as empty)."""
        item = self._client.get_item(
            TableName=self._table, Key={"session_id": {"S": session_id}}, ConsistentRead=True
        ).get("Item")
        if not item or item.get("tenant_id", {}).get("S") != tenant_id:
            return []
        return [Turn(role=t["M"]["role"]["S"], text=t["M"]["text"]["S"]) for t in item.get("turns", {}).get("L", [])]

    def append(self, tenant_id: str, session_id: str, turns: Sequence[Turn]) -> None:
        """Add turns; a session of another tenant is never written to."""
        values: list[Any] = [{"M": {"role": {"S": t.role}, "text": {"S": t.text}}} for t in turns]
        self._client.update_item(
            TableName=self._table,
            Key={"session_id": {"S": session_id}},
            UpdateExpression="SET turns = list_append(if_not_exists(turns, :empty), :new), "
            "tenant_id = :tenant, expires_at = :expires",
            ConditionExpression="attribute_not_exists(session_id) OR tenant_id = :tenant",
            ExpressionAttributeValues={
                ":empty": {"L": []},
                ":new": {"L": values},
                ":tenant": {"S": tenant_id},
                ":expires": {"N": str(int(time.time()) + self._ttl)},
            },
        )
