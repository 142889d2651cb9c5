"""Fixtures: a client wired to fakes, with no sleeping between retries."""

from __future__ import annotations

import pytest

from tests.unit.bedrock.fakes import FakeBedrockRuntime, RecordingMetrics, RecordingTracer
from workers.shared.bedrock import BedrockClient, BedrockSettings

HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU_35 = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA_LITE = "us.amazon.nova-lite-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


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
