"""The authorizer: API key or HS256 JWT to a tenant, the budget check, the policy and context API Gateway reads."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.unit.fakes import FakeLambdaContext
from workers.authorizer.handler import lambda_handler
from workers.authorizer.logic import Authorizer, Unauthorized
from workers.authorizer.policy import authorize
from workers.authorizer.tenants import InMemoryTenantDirectory, Tenant
from workers.authorizer.tokens import InvalidToken, sign_token, verify_token
from workers.shared.budgets import InMemoryBudgetStore, TokenBudget
from workers.shared.runtime.function import FunctionWorker, function_worker
from workers.shared.runtime.once import WorkerMisconfigured

SECRET = "test-signing-secret"
Handler = FunctionWorker[Authorizer]
ARN = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/POST/tickets"


@pytest.fixture
def budget() -> TokenBudget:
    """A budget service over the in-memory store."""
    return TokenBudget(InMemoryBudgetStore())


@pytest.fixture
def authorizer(budget: TokenBudget) -> Handler:
    """The authorizer's handler, built on two tenants with keys (and a disabled one) in memory."""
    tenants = InMemoryTenantDirectory()
    tenants.add(Tenant(tenant_id="acme", daily_token_limit=1_000, monthly_token_limit=10_000), api_key="acme-key")
    tenants.add(Tenant(tenant_id="globex", daily_token_limit=500, monthly_token_limit=500), api_key="globex-key")
    tenants.add(Tenant(tenant_id="gone", daily_token_limit=1, monthly_token_limit=1, enabled=False), api_key="gone-key")
    built = Authorizer(tenants, budget, jwt_secret=lambda: SECRET, audience="supportflow")
    return function_worker(lambda: built, authorize, service="authorizer")


def _authorize(handler: Handler, headers: dict[str, str]) -> dict[str, Any]:
    return handler(_event(headers), FakeLambdaContext())


def _event(headers: dict[str, str]) -> dict[str, object]:
    return {"type": "REQUEST", "methodArn": ARN, "headers": headers, "queryStringParameters": None}


def test_a_known_key_is_allowed_with_the_tenant_and_what_remains_in_context(
    authorizer: Handler,
) -> None:
    # Given acme's key, When authorized
    answer = _authorize(authorizer, {"X-Api-Key": "acme-key"})
    # Then every method of the stage is allowed for acme, and the context carries its budget
    assert answer["principalId"] == "acme"
    statement = answer["policyDocument"]["Statement"][0]
    assert (statement["Effect"], statement["Resource"]) == (
        "Allow",
        "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/*",
    )
    assert answer["context"]["tenantId"] == "acme"
    assert answer["context"]["remainingDaily"] == 1_000


def test_a_spent_tenant_is_denied_while_another_is_allowed(authorizer: Handler, budget: TokenBudget) -> None:
    # Given globex spent its whole day
    limits = Tenant(tenant_id="globex", daily_token_limit=500, monthly_token_limit=500).limits
    budget.settle(budget.reserve("globex", 500, limits), 500)
    # When both tenants call
    denied = _authorize(authorizer, {"x-api-key": "globex-key"})
    allowed = _authorize(authorizer, {"x-api-key": "acme-key"})
    # Then globex is denied and acme allowed
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"


@pytest.mark.parametrize(
    "headers", [{}, {"x-api-key": "nobody"}, {"x-api-key": "gone-key"}, {"Authorization": "Bearer x.y.z"}]
)
def test_missing_unknown_disabled_or_forged_credentials_are_unauthorized(
    authorizer: Handler, headers: dict[str, str]
) -> None:
    # Given credentials naming no enabled tenant, When authorized, Then Lambda fails with "Unauthorized" (a 401)
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        _authorize(authorizer, headers)


def test_a_signed_token_names_its_tenant(authorizer: Handler) -> None:
    # Given an HS256 token for globex
    token = sign_token({"tenant_id": "globex", "aud": "supportflow", "exp": int(time.time()) + 60}, SECRET)
    # When authorized, Then globex it is
    answer = _authorize(authorizer, {"authorization": f"Bearer {token}"})
    assert answer["principalId"] == "globex"


@pytest.mark.parametrize(
    ("claims", "secret"),
    [
        ({"tenant_id": "acme", "aud": "supportflow", "exp": 1}, SECRET),
        ({"tenant_id": "acme", "aud": "other", "exp": 4_000_000_000}, SECRET),
        ({"tenant_id": "acme", "aud": "supportflow", "exp": 4_000_000_000}, "another-secret"),
        ({"tenant_id": "acme", "aud": "supportflow"}, SECRET),
    ],
)
def test_expired_misaddressed_missigned_or_endless_tokens_are_refused(claims: dict[str, object], secret: str) -> None:
    # Given a token that fails one check, When verified, Then it is refused
    with pytest.raises(InvalidToken):
        verify_token(sign_token(claims, secret), SECRET, audience="supportflow")


def test_a_token_with_another_algorithm_is_refused() -> None:
    # Given an unsigned ("alg": "none") token
    token = sign_token({"tenant_id": "acme", "exp": 4_000_000_000}, SECRET)
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    # When verified, Then refused whatever its signature
    with pytest.raises(InvalidToken):
        verify_token(f"{header}.{token.split('.')[1]}.", SECRET)


def test_a_key_and_a_token_naming_different_tenants_are_unauthorized(authorizer: Handler) -> None:
    # Given acme's key with a valid token for globex (the gateway caches answers per key)
    token = sign_token({"tenant_id": "globex", "aud": "supportflow", "exp": int(time.time()) + 60}, SECRET)
    headers = {"x-api-key": "acme-key", "authorization": f"Bearer {token}"}
    # When authorized, Then refused, so the key's cached answer can never name globex
    with pytest.raises(Unauthorized):
        _authorize(authorizer, headers)
    # And the same token with globex's own key is allowed
    headers["x-api-key"] = "globex-key"
    assert _authorize(authorizer, headers)["principalId"] == "globex"


def test_the_deployed_handler_names_a_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the template's handler with no tenants table in the environment
    monkeypatch.delenv("TENANTS_TABLE_NAME", raising=False)
    # When a caller arrives, Then the failure names the variable, not a KeyError mid-request
    with pytest.raises(WorkerMisconfigured, match="tenants_table_name"):
        lambda_handler(_event({"x-api-key": "acme-key"}), FakeLambdaContext())
