"""The boto3 adapter of the bedrock-runtime port; retries and timeouts come from settings, endpoints from env."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config

from workers.shared.bedrock.settings import BedrockSettings

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


def botocore_config(settings: BedrockSettings) -> Config:
    """Request-level retries (standard/adaptive, total attempts incl. the first) and timeouts."""
    return Config(
        retries={"mode": settings.retry_mode, "total_max_attempts": settings.total_max_attempts},
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
    )


def build_runtime_client(settings: BedrockSettings) -> BedrockRuntimeClient:
    """A bedrock-runtime client; boto3 itself honours AWS_ENDPOINT_URL_BEDROCK_RUNTIME and AWS_REGION."""
    return boto3.client("bedrock-runtime", region_name=settings.region, config=botocore_config(settings))


class Boto3BedrockRuntime:
    """BedrockRuntimePort over a boto3 bedrock-runtime client."""

    def __init__(self, client: BedrockRuntimeClient) -> None:
        self.client = client

    def converse(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Converse."""
        return cast("dict[str, Any]", self.client.converse(**request))

    def converse_stream(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """ConverseStream; the ``stream`` raises EventStreamError on exception frames while iterated."""
        return cast("dict[str, Any]", self.client.converse_stream(**request))

    def invoke_model(self, model_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """InvokeModel with a JSON body."""
        response = self.client.invoke_model(
            modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
        )
        return cast("dict[str, Any]", json.loads(response["body"].read()))

    def invoke_model_stream(self, model_id: str, body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """InvokeModelWithResponseStream, yielding decoded chunk payloads."""
        response = self.client.invoke_model_with_response_stream(
            modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
        )
        for event in response["body"]:
            if "chunk" in event:
                yield cast("dict[str, Any]", json.loads(event["chunk"]["bytes"]))

    def count_tokens(self, model_id: str, input: Mapping[str, Any]) -> int:
        """CountTokens."""
        response = self.client.count_tokens(modelId=model_id, input=cast("Any", input))
        return int(response["inputTokens"])
