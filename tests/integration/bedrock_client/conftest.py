"""Clients built through real boto3 against the session's offline Bedrock server (root conftest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from supportflow.bedrock_offline.server import OfflineBedrock
from tests.constants import TEST_ENVIRONMENT
from workers.shared.bedrock import BedrockClient, BedrockSettings, NullMetrics, XRayTracer
from workers.shared.bedrock.runtime import botocore_config

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

FAULT_HEADER = "x-supportflow-fault"


@pytest.fixture
def server(offline_bedrock: OfflineBedrock) -> OfflineBedrock:
    """The session's offline Bedrock (these tests read its request counts and set its fault rules)."""
    return offline_bedrock


@pytest.fixture(autouse=True)
def _clean_server(server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    server.faults.clear()
    server.reset_counts()
    yield
    server.faults.clear()


@pytest.fixture
def settings() -> BedrockSettings:
    # Fast retries so fault tests stay quick; the mechanics are the same as in production.
    return BedrockSettings(total_max_attempts=3, stream_retry_initial_wait_s=0.01, stream_retry_max_wait_s=0.05)


class FaultHeader:
    """Adds ``x-supportflow-fault`` to every request of one boto3 client while set."""

    def __init__(self) -> None:
        self.value: str | None = None

    def __call__(self, request: Any, **_: Any) -> None:
        if self.value:
            request.headers[FAULT_HEADER] = self.value


@pytest.fixture
def fault_header() -> FaultHeader:
    return FaultHeader()


@pytest.fixture
def boto_client(server: OfflineBedrock, settings: BedrockSettings, fault_header: FaultHeader) -> BedrockRuntimeClient:
    client = boto3.client("bedrock-runtime", endpoint_url=server.url, config=botocore_config(settings))
    client.meta.events.register("before-sign.bedrock-runtime.*", fault_header)
    return client


@pytest.fixture
def make_client(boto_client: BedrockRuntimeClient, settings: BedrockSettings) -> Callable[..., BedrockClient]:
    def make(**overrides: Any) -> BedrockClient:
        chosen = settings.model_copy(update=overrides) if overrides else settings
        return BedrockClient(boto_client, chosen, NullMetrics(), tracer=XRayTracer())

    return make


@pytest.fixture
def client(make_client: Callable[..., BedrockClient]) -> BedrockClient:
    return make_client()


def endpoint_env(server: OfflineBedrock) -> dict[str, str]:
    """The variables that point an unmodified boto3 at the offline server."""
    return {**TEST_ENVIRONMENT, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": server.url}
