"""Observability adapters: EMF metrics with a model dimension, and one X-Ray subsegment per call."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from workers.shared.bedrock.ports import CallRecord, SpanPort

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = logging.getLogger(__name__)


class PowertoolsMetrics:
    """MetricsPort as CloudWatch EMF: one metric set per call, dimensioned by model id."""

    def __init__(self, namespace: str, service: str) -> None:
        self._namespace = namespace
        self._service = service

    def _metric_set(self, model_id: str) -> EphemeralMetrics:
        metrics = EphemeralMetrics(namespace=self._namespace, service=self._service)
        metrics.add_dimension(name="model", value=model_id)
        return metrics

    def record_call(self, record: CallRecord) -> None:
        """Latency, tokens, cost, throttles and attempts of one call, flushed as one EMF blob."""
        metrics = self._metric_set(record.model_id)
        metrics.add_metric(name="ModelLatency", unit=MetricUnit.Milliseconds, value=record.latency_ms)
        metrics.add_metric(name="InputTokens", unit=MetricUnit.Count, value=record.input_tokens)
        metrics.add_metric(name="OutputTokens", unit=MetricUnit.Count, value=record.output_tokens)
        metrics.add_metric(name="ModelCostUSD", unit=MetricUnit.NoUnit, value=record.cost_usd)
        metrics.add_metric(name="ModelThrottles", unit=MetricUnit.Count, value=record.throttles)
        metrics.add_metric(name="ModelFallbacks", unit=MetricUnit.Count, value=int(record.fallback))
        metrics.add_metric(name="ModelAttempts", unit=MetricUnit.Count, value=record.attempts)
        if record.first_token_ms is not None:
            metrics.add_metric(name="FirstTokenLatency", unit=MetricUnit.Milliseconds, value=record.first_token_ms)
        if record.cached:
            metrics.add_metric(name="ModelCacheHits", unit=MetricUnit.Count, value=1)
        metrics.add_metadata(key="task", value=record.task)
        metrics.flush_metrics()

    def record_fallback(self, task: str, from_model: str, to_model: str) -> None:
        """One fallback away from ``from_model``."""
        metrics = self._metric_set(from_model)
        metrics.add_metric(name="ModelFallbackFrom", unit=MetricUnit.Count, value=1)
        metrics.add_metadata(key="task", value=task)
        metrics.add_metadata(key="fallback_to", value=to_model)
        metrics.flush_metrics()


class NullMetrics:
    """MetricsPort that drops everything."""

    def record_call(self, record: CallRecord) -> None:
        """Drop."""

    def record_fallback(self, task: str, from_model: str, to_model: str) -> None:
        """Drop."""


class _Span:
    def __init__(self, subsegment: Any) -> None:
        # None when X-Ray has no open segment (context missing) - annotations are then dropped.
        self._subsegment = subsegment

    def annotate(self, key: str, value: str | int | float | bool) -> None:
        if self._subsegment is not None:
            self._subsegment.put_annotation(key, value)

    def metadata(self, key: str, value: Any) -> None:
        if self._subsegment is not None:
            self._subsegment.put_metadata(key, value, "bedrock")


class XRayTracer:
    """TracerPort on Powertools Tracer's provider; harmless when tracing is disabled or no daemon runs."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        self._tracer = tracer

    @contextmanager
    def _open(self, name: str) -> Iterator[SpanPort]:
        if self._tracer is None:
            from aws_lambda_powertools import Tracer  # noqa: PLC0415 - patches boto at import; build on first use

            self._tracer = Tracer()
        if self._tracer.disabled:
            yield _NULL_SPAN
            return
        with self._tracer.provider.in_subsegment(name) as subsegment:
            yield _Span(subsegment)

    def span(self, name: str) -> AbstractContextManager[SpanPort]:
        """A subsegment named ``name`` around one model call."""
        return self._open(name)


class NullTracer:
    """TracerPort that records nothing."""

    @contextmanager
    def _open(self) -> Iterator[SpanPort]:
        yield _NULL_SPAN

    def span(self, name: str) -> AbstractContextManager[SpanPort]:
        """A span that records nothing."""
        return self._open()


class _NullSpan:
    def annotate(self, key: str, value: str | int | float | bool) -> None:
        """Drop."""

    def metadata(self, key: str, value: Any) -> None:
        """Drop."""


_NULL_SPAN = _NullSpan()
