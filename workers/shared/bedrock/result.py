"""What every call returns: output, usage, cost, latency, which model answered and how."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

TokenCountMethod = Literal["count_tokens", "estimate", "none"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage as Bedrock bills it (cache reads/writes are separate from input tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input, output and cache tokens together."""
        return self.input_tokens + self.output_tokens + self.cache_read_input_tokens + self.cache_write_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_write_input_tokens + other.cache_write_input_tokens,
        )

    @classmethod
    def from_converse(cls, usage: dict[str, Any] | None) -> Usage:
        """Usage from a Converse ``usage`` / ConverseStream ``metadata.usage`` object."""
        usage = usage or {}
        return cls(
            input_tokens=int(usage.get("inputTokens", 0)),
            output_tokens=int(usage.get("outputTokens", 0)),
            cache_read_input_tokens=int(usage.get("cacheReadInputTokens", 0)),
            cache_write_input_tokens=int(usage.get("cacheWriteInputTokens", 0)),
        )


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One toolUse block the model emitted."""

    tool_use_id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TokenCount:
    """Input tokens counted (CountTokens API) or estimated (chars/token with a margin) before a call."""

    tokens: int
    method: TokenCountMethod


@dataclass(frozen=True)
class Result(Generic[T]):
    """The outcome of one client call (a tool loop or structured call aggregates its rounds)."""

    output: T
    text: str
    model_id: str
    requested_model_id: str
    task: str
    usage: Usage
    cost_usd: float
    latency_ms: float
    attempts: int
    fallback: bool
    stop_reason: str
    tool_calls: tuple[ToolCall, ...] = ()
    message: dict[str, Any] = field(default_factory=dict)
    models_tried: tuple[str, ...] = ()
    cached: bool = False
    input_tokens_counted: TokenCount = TokenCount(0, "none")
    trimmed_messages: int = 0
    first_token_ms: float | None = None
    rounds: int = 1
