"""A scripted bedrock-runtime (the client module's port) that answers every Converse with one tool use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workers.shared.bedrock import BedrockClient, NullMetrics, NullTracer


@dataclass
class ToolAnsweringRuntime:
    """Answers Converse with the scripted tool inputs in turn, and keeps each request it was sent."""

    answers: list[dict[str, Any]]
    requests: list[Mapping[str, Any]] = field(default_factory=list)

    def converse(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The next scripted answer as a toolUse on the forced tool."""
        self.requests.append(request)
        name = request["toolConfig"]["toolChoice"]["tool"]["name"]
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [{"toolUse": {"toolUseId": "t1", "name": name, "input": answer}}],
                }
            },
            "stopReason": "tool_use",
            "usage": {"inputTokens": 1000, "outputTokens": 100, "totalTokens": 1100},
            "metrics": {"latencyMs": 1},
            "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
        }

    def converse_stream(self, request: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def invoke_model(self, model_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def invoke_model_stream(self, model_id: str, body: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def count_tokens(self, model_id: str, input: Mapping[str, Any]) -> int:
        """A fixed count: the tests do not measure budgets."""
        return 100


def client_on(runtime: ToolAnsweringRuntime) -> BedrockClient:
    """The shared Bedrock client on the scripted runtime, with telemetry switched off."""
    return BedrockClient(runtime, metrics=NullMetrics(), tracer=NullTracer(), sleep=lambda _: None)
