"""Who a caller is: the tenants directory port (API key → tenant, tenant → limits) and its DynamoDB adapter.

TenantsTable holds two kinds of item: ``tenant#<id>`` (limits, and the API key usage plans count under)
and ``apikey#<sha256 of the key>`` (the tenant it belongs to). Keys are stored only as hashes.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from workers.shared.aws import build_client
from workers.shared.budgets import BudgetLimits

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Tenant(BaseModel):
    """A tenant and its token budgets."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    daily_token_limit: int = Field(ge=0)
    monthly_token_limit: int = Field(ge=0)
    enabled: bool = True

    @property
    def limits(self) -> BudgetLimits:
        """The budget limits of this tenant."""
        return BudgetLimits(daily=self.daily_token_limit, monthly=self.monthly_token_limit)


def key_hash(api_key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class TenantDirectory(Protocol):
    """Where tenants and their keys are registered."""

    def by_api_key(self, api_key: str) -> Tenant | None:
        """The tenant an API key belongs to, or None."""

    def by_id(self, tenant_id: str) -> Tenant | None:
        """A tenant by id, or None."""


class InMemoryTenantDirectory:
    """Tenants in dicts: the fake for unit tests."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.keys: dict[str, str] = {}

    def add(self, tenant: Tenant, api_key: str | None = None) -> None:
        """Register a tenant (and a key of it)."""
        self.tenants[tenant.tenant_id] = tenant
        if api_key is not None:
            self.keys[key_hash(api_key)] = tenant.tenant_id

    def by_api_key(self, api_key: str) -> Tenant | None:
        """Look the key's hash up."""
        tenant_id = self.keys.get(key_hash(api_key))
        return self.tenants.get(tenant_id) if tenant_id else None

    def by_id(self, tenant_id: str) -> Tenant | None:
        """Look the tenant up."""
        return self.tenants.get(tenant_id)


class DynamoDBTenantDirectory:
    """TenantsTable in DynamoDB."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def register(self, tenant: Tenant, api_key: str | None = None) -> None:
        """Write a tenant (and a key of it): used by ``supportflow`` to seed local tenants."""
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"tenant#{tenant.tenant_id}"},
                "tenant_id": {"S": tenant.tenant_id},
                "daily_token_limit": {"N": str(tenant.daily_token_limit)},
                "monthly_token_limit": {"N": str(tenant.monthly_token_limit)},
                "enabled": {"BOOL": tenant.enabled},
            },
        )
        if api_key is not None:
            self._client.put_item(
                TableName=self._table,
                Item={"pk": {"S": f"apikey#{key_hash(api_key)}"}, "tenant_id": {"S": tenant.tenant_id}},
            )

    def by_api_key(self, api_key: str) -> Tenant | None:
        """Key hash → tenant id → tenant."""
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": f"apikey#{key_hash(api_key)}"}}).get(
            "Item"
        )
        return self.by_id(item["tenant_id"]["S"]) if item else None

    def by_id(self, tenant_id: str) -> Tenant | None:
        """The tenant item, or None."""
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": f"tenant#{tenant_id}"}}).get("Item")
        if not item:
            return None
        return Tenant(
            tenant_id=item["tenant_id"]["S"],
            daily_token_limit=int(item["daily_token_limit"]["N"]),
            monthly_token_limit=int(item["monthly_token_limit"]["N"]),
            enabled=item.get("enabled", {}).get("BOOL", True),
        )
