"""One offline Bedrock server per module; clients built through real boto3 against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from supportflow.bedrock_offline.server import OfflineBedrock
from workers.shared.bedrock import BedrockClient, BedrockSettings, NullMetrics, XRayTracer
from workers.shared.bedrock.runtime import botocore_config

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU_35 = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
FAULT_HEADER = "x-supportflow-fault"

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@pytest.fixture(scope="module")
def server() -> Iterator[OfflineBedrock]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in _ENV.items():
            mp.setenv(key, value)
        offline = OfflineBedrock(host="127.0.0.1", port=0, faults=[])
        offline.start()
        try:
            yield offline
        finally:
            offline.stop()


@pytest.fixture(autouse=True)
def _clean_server(server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in _ENV.items():
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
    return {**_ENV, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": server.url}
