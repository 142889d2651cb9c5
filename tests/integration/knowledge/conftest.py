"""One offline Bedrock per module, announced to boto3 only through AWS_ENDPOINT_URL_<SERVICE> variables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from supportflow.bedrock_offline.server import OfflineBedrock

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", "AWS_ENDPOINT_URL_QBUSINESS")
KNOWLEDGE_BASE_ID = "SUPPORTKB1"
APPLICATION_ID = "a1b2c3d4-0000-4000-8000-00000000app1"
RETRIEVER_ID = "r1b2c3d4-0000-4000-8000-0000000retr1"


@pytest.fixture(scope="module")
def server() -> Iterator[OfflineBedrock]:
    """The offline server, its knowledge index warmed."""
    offline = OfflineBedrock(host="127.0.0.1", port=0, faults=[])
    offline.start()
    assert offline.app is not None
    _ = offline.app.knowledge.index
    try:
        yield offline
    finally:
        offline.stop()


@pytest.fixture(autouse=True)
def _endpoints(server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point boto3 at the server the way the local stack does, and start each test with no faults."""
    for variable in ENDPOINT_VARIABLES:
        monkeypatch.setenv(variable, server.url)
    server.faults.clear()
    server.reset_counts()
    yield
