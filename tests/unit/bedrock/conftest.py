"""Fixtures: a client wired to fakes, with no sleeping between retries."""

from __future__ import annotations

import pytest

from tests.unit.bedrock.fakes import FakeBedrockRuntime, RecordingMetrics, RecordingTracer
from workers.shared.bedrock import BedrockClient, BedrockSettings


@pytest.fixture
def runtime() -> FakeBedrockRuntime:
    return FakeBedrockRuntime()


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


@pytest.fixture
def tracer() -> RecordingTracer:
    return RecordingTracer()


@pytest.fixture
def settings() -> BedrockSettings:
    return BedrockSettings()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(
    runtime: FakeBedrockRuntime,
    settings: BedrockSettings,
    metrics: RecordingMetrics,
    tracer: RecordingTracer,
    sleeps: list[float],
) -> BedrockClient:
    return BedrockClient(runtime, settings, metrics, tracer=tracer, sleep=sleeps.append)
