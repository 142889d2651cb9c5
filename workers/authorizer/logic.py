"""The authorizer's rule: resolve the caller to a tenant, check its token budget, allow or deny with context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from workers.authorizer.tenants import Tenant, TenantDirectory
from workers.authorizer.tokens import InvalidToken, verify_token
from workers.shared.budgets import BudgetExhausted, Remaining, TokenBudget

logger = Logger(child=True)


class Unauthorized(Exception):
    """No credentials, or credentials that name no enabled tenant: API Gateway answers 401."""

    def __init__(self) -> None:
        # Lambda authorizers signal 401 by failing with exactly this message.
        super().__init__("Unauthorized")


@dataclass(frozen=True)
class Credentials:
    """What the caller sent: an ``x-api-key`` and/or an ``Authorization: Bearer`` token."""

    api_key: str | None = None
    bearer_token: str | None = None


@dataclass(frozen=True)
class Decision:
    """Allow or deny, for which tenant, and what remains of its budget (the context the API reads)."""

    allowed: bool
    tenant: Tenant
    remaining: Remaining
    reason: str = ""

    def context(self) -> dict[str, str | int | bool]:
        """The authorizer context (flat scalars, as API Gateway requires)."""
        return {
            "tenantId": self.tenant.tenant_id,
            "dailyTokenLimit": self.tenant.daily_token_limit,
            "monthlyTokenLimit": self.tenant.monthly_token_limit,
            "remainingDaily": self.remaining.daily,
            "remainingMonthly": self.remaining.monthly,
            "reason": self.reason,
        }


class Authorizer:
    """Tenant resolution (API key or HS256 JWT) and the budget check."""

    def __init__(
        self,
        tenants: TenantDirectory,
        budget: TokenBudget,
        jwt_secret: Callable[[], str] | None = None,
        audience: str | None = None,
    ) -> None:
        self._tenants = tenants
        self._budget = budget
        self._jwt_secret = jwt_secret
        self._audience = audience

    def resolve(self, credentials: Credentials) -> Tenant:
        """The enabled tenant the credentials name, else ``Unauthorized``.

        With both a key and a bearer token they must name the same tenant: API Gateway caches the answer
        per key, so a token naming another tenant would otherwise lend that tenant to the key's later calls.
        """
        by_key = self._tenants.by_api_key(credentials.api_key) if credentials.api_key else None
        tenant = by_key
        if credentials.bearer_token:
            by_token = self._token_tenant(credentials.bearer_token)
            if credentials.api_key and (by_key is None or by_token.tenant_id != by_key.tenant_id):
                raise Unauthorized
            tenant = by_token
        if tenant is None or not tenant.enabled:
            raise Unauthorized
        return tenant

    def _token_tenant(self, token: str) -> Tenant:
        if self._jwt_secret is None:
            raise Unauthorized
        try:
            claims = verify_token(token, self._jwt_secret(), audience=self._audience)
        except InvalidToken as error:
            logger.info("token refused", extra={"why": str(error)})
            raise Unauthorized from error
        tenant_id = claims.get("tenant_id")
        tenant = self._tenants.by_id(tenant_id) if isinstance(tenant_id, str) else None
        if tenant is None:
            raise Unauthorized
        return tenant

    def decide(self, credentials: Credentials) -> Decision:
        """Allow while both budgets have tokens left; deny (403) once either is spent."""
        tenant = self.resolve(credentials)
        try:
            remaining = self._budget.check(tenant.tenant_id, tenant.limits)
        except BudgetExhausted as spent:
            logger.info("budget spent", extra={"tenant_id": tenant.tenant_id, "period": spent.period})
            return Decision(False, tenant, self._budget.remaining(tenant.tenant_id, tenant.limits), str(spent))
        return Decision(True, tenant, remaining)
