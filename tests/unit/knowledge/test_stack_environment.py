"""The local stack hands the offline server's URL to workers for the knowledge APIs too."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.local.worker_factory import WorkerFactory

BEDROCK_URL = "http://127.0.0.1:8766"


def test_workers_get_the_offline_server_for_both_knowledge_apis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no endpoint variable in our own environment and a stack with an offline Bedrock
    for variable in ("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", "AWS_ENDPOINT_URL_QBUSINESS"):
        monkeypatch.delenv(variable, raising=False)
    factory = WorkerFactory(
        endpoint_url="http://127.0.0.1:5000",
        region="us-east-1",
        work_dir=tmp_path,
        log_dir=None,
        retry_delay_seconds=None,
        short_visibility=True,
        bedrock_url=BEDROCK_URL,
    )
    # When a worker's environment is built
    environment = factory.environment()
    # Then boto3 in the worker finds the offline server for Retrieve and SearchRelevantContent by itself
    assert environment["AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME"] == BEDROCK_URL
    assert environment["AWS_ENDPOINT_URL_QBUSINESS"] == BEDROCK_URL
