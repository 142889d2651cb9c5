"""Settings every worker shares, validated once at cold start from the environment the template sets."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    """Environment of any worker: a missing variable fails at start, not mid-batch."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    event_bus_name: str = Field(min_length=1)
    stage: str = "dev"


class IdempotentWorkerSettings(WorkerSettings):
    """A worker whose effects are deduplicated in the idempotency table."""

    idempotency_table_name: str = Field(min_length=1)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
