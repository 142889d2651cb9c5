"""Composition root of the mock CRM: settings and the store, built once per cold start."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.crm_api.logic import CrmService
from workers.crm_api.store import DynamoDBCrmStore


class CrmApiSettings(BaseSettings):
    """The mock CRM's environment: only its own table."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    crm_table_name: str = Field(min_length=1)


_service: CrmService | None = None


def get_service() -> CrmService:
    """The process-wide service, built on first use (after tests had a chance to install their own)."""
    global _service  # noqa: PLW0603  (one composition root per cold start)
    if _service is None:
        _service = CrmService(DynamoDBCrmStore(CrmApiSettings().crm_table_name))
    return _service


def set_service(service: CrmService | None) -> None:
    """Install a service (tests), or clear it so the next call builds from the environment."""
    global _service  # noqa: PLW0603
    _service = service
