"""The public REST API as the local stack serves it: tenants with API keys in the usage plan, their budgets.

One stack of its own (a stage of its own in the same emulator) with only the queries worker running and
the offline Bedrock answering the chat and query calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from supportflow.local.stack import EmulatedStack
from workers.authorizer.tenants import DynamoDBTenantDirectory, Tenant


@dataclass(frozen=True)
class PublicApi:
    """Where the public API answers, and the keys of the tenants registered for the tests."""

    url: str
    keys: dict[str, str]

    def call(self, method: str, path: str, tenant: str | None = "acme", **kwargs: object) -> requests.Response:
        """One HTTP request as ``tenant`` (its x-api-key), or with no key at all."""
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if tenant is not None:
            headers["x-api-key"] = self.keys[tenant]
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


# tenant -> (daily, monthly) token limits. "tight" fits one chat reservation (~1.1k tokens) and no more.
TENANTS = {"acme": (1_000_000, 10_000_000), "globex": (100, 1_000), "tight": (1_100, 100_000), "fuzz": (10**7, 10**8)}


@pytest.fixture(scope="session")
def api_stack() -> Iterator[EmulatedStack]:
    """template.yaml deployed with its APIs served, the queries worker running, the offline Bedrock on."""
    with EmulatedStack.start(stage=f"api-{uuid.uuid4().hex[:6]}", workers=["QueriesFunction"], bedrock=True) as stack:
        yield stack


@pytest.fixture(scope="session")
def public_api(api_stack: EmulatedStack) -> PublicApi:
    """PublicApi at its stage URL; each tenant in TenantsTable with a key that is also in the usage plan."""
    apigateway = api_stack.client("apigateway")
    directory = DynamoDBTenantDirectory(api_stack.outputs["TenantsTableName"], client=api_stack.client("dynamodb"))
    keys: dict[str, str] = {}
    for tenant_id, (daily, monthly) in TENANTS.items():
        value = f"{tenant_id}-{uuid.uuid4().hex}"
        key = apigateway.create_api_key(name=f"{tenant_id}-{value[-6:]}", enabled=True, value=value)
        apigateway.create_usage_plan_key(
            usagePlanId=api_stack.outputs["PublicApiUsagePlanId"], keyId=key["id"], keyType="API_KEY"
        )
        directory.register(Tenant(tenant_id=tenant_id, daily_token_limit=daily, monthly_token_limit=monthly), value)
        keys[tenant_id] = value
    return PublicApi(url=api_stack.apis["PublicApi"].url, keys=keys)
