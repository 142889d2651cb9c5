"""The knowledge tests on the suite's one offline Bedrock, announced to boto3 only through endpoint variables.

The server is the session's ``offline_bedrock`` (tests/conftest.py); boto3 finds it through
AWS_ENDPOINT_URL_<SERVICE>, as on the local stack.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from supportflow.bedrock_offline.server import OfflineBedrock

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", "AWS_ENDPOINT_URL_QBUSINESS")
KNOWLEDGE_BASE_ID = "SUPPORTKB1"
APPLICATION_ID = "a1b2c3d4-0000-4000-8000-00000000app1"
RETRIEVER_ID = "r1b2c3d4-0000-4000-8000-0000000retr1"


@pytest.fixture
def server(offline_bedrock: OfflineBedrock) -> OfflineBedrock:
    """The suite's one offline server, its knowledge index warmed (built once, on first use)."""
    offline_bedrock.start()
    assert offline_bedrock.app is not None
    _ = offline_bedrock.app.knowledge.index
    return offline_bedrock


@pytest.fixture(autouse=True)
def _endpoints(server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point boto3 at the server the way the local stack does; each test starts and ends with no faults."""
    for variable in ENDPOINT_VARIABLES:
        monkeypatch.setenv(variable, server.url)
    server.faults.clear()
    server.reset_counts()
    yield
    server.faults.clear()
