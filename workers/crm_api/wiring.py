"""Composition root of the mock CRM: settings in, the store and the service built (once per cold start)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.crm_api.logic import CrmService
from workers.crm_api.store import DynamoDBCrmStore


class CrmApiSettings(BaseSettings):
    """The mock CRM's environment: only its own table."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    crm_table_name: str = Field(min_length=1)


def build_service(settings: CrmApiSettings | None = None) -> CrmService:
    """Wire the mock CRM from settings; tests build a CrmService on an in-memory store instead."""
    settings = settings or CrmApiSettings()
    return CrmService(DynamoDBCrmStore(settings.crm_table_name))
