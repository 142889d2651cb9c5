"""Ports: the outside systems the Bedrock client talks to, as Protocols (adapters and fakes implement them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol


class BedrockRuntimePort(Protocol):
    """The bedrock-runtime operations the client uses, in boto3's request/response shapes.

    Implementations raise botocore ``ClientError`` for request errors; iterating a stream
    raises ``EventStreamError`` for exception frames, exactly as boto3 does.
    """

    def converse(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Converse; the response as boto3 returns it (``output``, ``usage``, ``stopReason``...)."""
        ...

    def converse_stream(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """ConverseStream; ``{"stream": Iterable[event dict], "ResponseMetadata": ...}``."""
        ...

    def invoke_model(self, model_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """InvokeModel with a JSON body; the decoded JSON response body."""
        ...

    def invoke_model_stream(self, model_id: str, body: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
        """InvokeModelWithResponseStream; each decoded ``chunk`` payload."""
        ...

    def count_tokens(self, model_id: str, input: Mapping[str, Any]) -> int:
        """CountTokens; ``inputTokens``."""
        ...


class ResponseCachePort(Protocol):
    """A cache of Converse responses keyed by a request digest, with expiry."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached response, or None when absent or expired."""
        ...

    def put(self, key: str, response: Mapping[str, Any], ttl_s: int) -> None:
        """Store a response for ``ttl_s`` seconds."""
        ...


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one model call reports to metrics."""

    task: str
    model_id: str
    latency_ms: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    throttles: int
    fallback: bool
    attempts: int
    first_token_ms: float | None = None
    cached: bool = False


class MetricsPort(Protocol):
    """Where per-call metrics go (EMF in Lambda, a list in tests)."""

    def record_call(self, record: CallRecord) -> None:
        """Emit the metrics of one call."""
        ...

    def record_fallback(self, task: str, from_model: str, to_model: str) -> None:
        """Emit one fallback from a throttled/unavailable model to the next."""
        ...


class SpanPort(Protocol):
    """A trace span (X-Ray subsegment) that takes annotations and metadata."""

    def annotate(self, key: str, value: str | int | float | bool) -> None:
        """Indexed key/value (searchable in X-Ray)."""
        ...

    def metadata(self, key: str, value: Any) -> None:
        """Non-indexed detail."""
        ...


class TracerPort(Protocol):
    """Opens one span per model call."""

    def span(self, name: str) -> AbstractContextManager[SpanPort]:
        """A context manager around one call; exceptions are recorded and re-raised."""
        ...
