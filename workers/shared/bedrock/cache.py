"""Optional response cache for identical single-turn requests: key derivation and a DynamoDB adapter."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def cache_key(model_id: str, request: Mapping[str, Any]) -> str:
    """sha256 over the model id and the canonical JSON of the request."""
    canonical = json.dumps({"modelId": model_id, "request": request}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class DynamoDBResponseCache:
    """ResponseCachePort on a DynamoDB table: ``pk`` (S) hash key, ``expires_at`` (N) as the TTL attribute."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._client = client
        self._clock = clock

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client, built on first use."""
        if self._client is None:
            self._client = build_client("dynamodb")
        return self._client

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached response; expired items count as absent (TTL deletion lags by up to days)."""
        item = self.client.get_item(TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=False).get("Item")
        if not item or float(item["expires_at"]["N"]) <= self._clock():
            return None
        response: dict[str, Any] = json.loads(item["response"]["S"])
        return response

    def put(self, key: str, response: Mapping[str, Any], ttl_s: int) -> None:
        """Store the response with an expiry ``ttl_s`` seconds from now."""
        self.client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": key},
                "response": {"S": json.dumps(response, default=str)},
                "expires_at": {"N": str(int(self._clock()) + ttl_s)},
            },
        )


class InMemoryResponseCache:
    """ResponseCachePort in a dict, for local runs and tests."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self._clock = clock

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached response unless expired."""
        hit = self._items.get(key)
        if hit is None or hit[0] <= self._clock():
            return None
        return json.loads(json.dumps(hit[1]))  # type: ignore[no-any-return]

    def put(self, key: str, response: Mapping[str, Any], ttl_s: int) -> None:
        """Store a copy of the response."""
        self._items[key] = (self._clock() + ttl_s, json.loads(json.dumps(response, default=str)))
