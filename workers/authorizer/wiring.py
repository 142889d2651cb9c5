"""Composition root of the authorizer: settings, tenants, budgets and the JWT secret, built once per cold start."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.authorizer.logic import Authorizer
from workers.authorizer.tenants import DynamoDBTenantDirectory
from workers.shared.aws import build_client
from workers.shared.budgets import DynamoDBBudgetStore, TokenBudget


class AuthorizerSettings(BaseSettings):
    """The authorizer's environment, validated at cold start."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    tenants_table_name: str = Field(min_length=1)
    budgets_table_name: str = Field(min_length=1)
    jwt_secret_arn: str | None = Field(default=None, description="HS256 secret in Secrets Manager; unset: keys only.")
    jwt_audience: str | None = None
    jwt_secret_max_age_seconds: int = Field(default=300, ge=0)


def jwt_secret(settings: AuthorizerSettings, provider: SecretsProvider | None = None) -> Callable[[], str] | None:
    """The signing secret through Powertools Parameters (cached ``max_age``), or None without one."""
    if not settings.jwt_secret_arn:
        return None
    secrets = provider or SecretsProvider(boto3_client=build_client("secretsmanager"))
    arn = settings.jwt_secret_arn

    def read() -> str:
        return str(secrets.get(arn, max_age=settings.jwt_secret_max_age_seconds))

    return read


def build_authorizer(settings: AuthorizerSettings | None = None) -> Authorizer:
    """Wire the authorizer from the environment; tests build an Authorizer on in-memory tenants instead."""
    settings = settings or AuthorizerSettings()
    return Authorizer(
        DynamoDBTenantDirectory(settings.tenants_table_name),
        TokenBudget(DynamoDBBudgetStore(settings.budgets_table_name)),
        jwt_secret(settings),
        settings.jwt_audience,
    )
