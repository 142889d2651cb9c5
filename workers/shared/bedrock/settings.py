"""Validated configuration: model catalogue (limits, pricing), task routes, retries, budgets, cache."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.shared.bedrock.errors import ModelNotFound

_GEO_PREFIX = re.compile(r"^(us|eu|apac|us-gov|ca|jp|au|global)\.")


class Pricing(BaseModel):
    """On-demand USD prices per million tokens, plus the batch discount as a fraction."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float = Field(default=0.0, ge=0)
    cache_write_per_mtok: float = Field(default=0.0, ge=0)
    batch_discount: float = Field(default=0.5, ge=0, lt=1)


class ModelSpec(BaseModel):
    """What the client must know about one model id or inference profile id."""

    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)
    supports_count_tokens: bool = False
    supports_specific_tool_choice: bool = True
    pricing: Pricing
    # CountTokens takes a foundation-model id; derived from the profile id when not given.
    count_tokens_model_id: str | None = None


class Route(BaseModel):
    """A task's primary model and the models to fall back to, in order."""

    primary: str
    fallbacks: list[str] = Field(default_factory=list)

    @property
    def chain(self) -> list[str]:
        """Primary first, then fallbacks, without duplicates."""
        return list(dict.fromkeys([self.primary, *self.fallbacks]))


@cache
def _packaged_catalog() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("catalog.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def default_models() -> dict[str, ModelSpec]:
    """The packaged model catalogue (catalog.json)."""
    return {k: ModelSpec.model_validate(v) for k, v in _packaged_catalog()["models"].items()}


def default_routes() -> dict[str, Route]:
    """The packaged task routes (catalog.json)."""
    return {k: Route.model_validate(v) for k, v in _packaged_catalog()["routes"].items()}


def foundation_model_id(model_id: str) -> str:
    """Strip a cross-region inference-profile prefix (``us.``, ``eu.``, ``global.``...)."""
    return _GEO_PREFIX.sub("", model_id)


class BedrockSettings(BaseSettings):
    """Everything the Bedrock client reads from the environment (prefix ``BEDROCK_``)."""

    model_config = SettingsConfigDict(env_prefix="BEDROCK_", extra="ignore", frozen=True)

    # None lets boto3 resolve AWS_REGION / AWS_DEFAULT_REGION; endpoints come from AWS_ENDPOINT_URL_*.
    region: str | None = None
    retry_mode: Literal["standard", "adaptive"] = "standard"
    total_max_attempts: int = Field(default=4, ge=1, le=10)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=120.0, gt=0)

    # Application-level retries for errors raised inside an event stream (botocore never retries those).
    stream_retry_attempts: int = Field(default=3, ge=1, le=10)
    stream_retry_initial_wait_s: float = Field(default=0.5, ge=0)
    stream_retry_max_wait_s: float = Field(default=8.0, ge=0)
    # ModelTimeoutException: one retry with maxTokens multiplied by this and history halved.
    timeout_shrink_factor: float = Field(default=0.5, gt=0, lt=1)

    models: dict[str, ModelSpec] = Field(default_factory=default_models)
    routes: dict[str, Route] = Field(default_factory=default_routes)
    default_task: str = "default"

    default_max_tokens: int = Field(default=1024, gt=0)
    use_count_tokens_api: bool = True
    # Offline counting when CountTokens is off or unsupported: a BPE tokenizer (cl100k) or a chars ratio.
    offline_tokenizer: Literal["cl100k", "chars"] = "cl100k"
    chars_per_token: float = Field(default=3.5, gt=0)
    token_estimate_margin: float = Field(default=0.2, ge=0)
    over_budget: Literal["trim", "refuse"] = "trim"

    max_tool_rounds: int = Field(default=5, ge=1)

    cache_enabled: bool = False
    cache_table: str | None = None
    cache_ttl_s: int = Field(default=86_400, gt=0)

    metrics_namespace: str = "supportflow"
    service_name: str = "bedrock-client"

    @model_validator(mode="after")
    def _routes_name_known_models(self) -> BedrockSettings:
        unknown = {m for r in self.routes.values() for m in r.chain if m not in self.models}
        if unknown:
            raise ValueError(f"routes name models missing from the catalogue: {sorted(unknown)}")
        if self.default_task not in self.routes:
            raise ValueError(f"default_task {self.default_task!r} has no route")
        if self.cache_enabled and not self.cache_table:
            raise ValueError("BEDROCK_CACHE_ENABLED needs BEDROCK_CACHE_TABLE")
        return self

    def spec(self, model_id: str) -> ModelSpec:
        """The catalogue entry for a model id; unknown ids are a configuration error."""
        try:
            return self.models[model_id]
        except KeyError:
            raise ModelNotFound(
                f"model {model_id!r} is not in the catalogue (BEDROCK_MODELS)", model_id=model_id
            ) from None

    def route(self, task: str) -> Route:
        """The route for a task, or the default route for an unknown task."""
        return self.routes.get(task) or self.routes[self.default_task]
