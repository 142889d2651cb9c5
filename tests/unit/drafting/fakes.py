"""Fakes for the drafting chain: a knowledge source over a few passages, and a scripted bedrock-runtime."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workers.drafting.ports import Passage
from workers.shared.bedrock import BedrockClient, NullMetrics, NullTracer


@dataclass(frozen=True)
class Found:
    """A passage as the knowledge port returns it."""

    text: str
    source_uri: str
    title: str
    score: float


def found(passage: Passage) -> Found:
    """``passage`` as the knowledge port would return it."""
    return Found(passage.text, passage.uri, passage.title, passage.score)


@dataclass
class FakeKnowledge:
    """Answers each query with the passages listed for the first keyword it contains, and logs queries."""

    by_keyword: dict[str, list[Passage]]
    queries: list[str] = field(default_factory=list)

    def retrieve(self, query: str, max_results: int) -> Sequence[Found]:
        """The passages of the first keyword found in ``query``, at most ``max_results``."""
        self.queries.append(query)
        for keyword, passages in self.by_keyword.items():
            if keyword in query.lower():
                return [found(p) for p in passages[:max_results]]
        return []


@dataclass
class ScriptedRuntime:
    """Converse answered from scripts: per forced tool name a list of inputs, and a list of reply texts.

    Each list is consumed in order (the last entry repeats); every request is kept.
    """

    tools: dict[str, list[dict[str, Any]]]
    texts: list[str]
    requests: list[Mapping[str, Any]] = field(default_factory=list)
    _used: dict[str, int] = field(default_factory=dict)

    def _next(self, key: str, script: list[Any]) -> Any:
        index = self._used.get(key, 0)
        self._used[key] = index + 1
        return script[min(index, len(script) - 1)]

    def converse(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A toolUse for a forced tool, else the next scripted text."""
        self.requests.append(request)
        config = request.get("toolConfig")
        if config:
            name = config["toolChoice"]["tool"]["name"]
            content: list[dict[str, Any]] = [
                {"toolUse": {"toolUseId": "t1", "name": name, "input": self._next(name, self.tools[name])}}
            ]
            stop = "tool_use"
        else:
            content, stop = [{"text": self._next("text", self.texts)}], "end_turn"
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
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
        """A fixed count: these tests do not measure budgets."""
        return 100

    def sent(self, tool: str | None) -> list[Mapping[str, Any]]:
        """The requests that forced ``tool`` (None: the text ones)."""
        return [
            r
            for r in self.requests
            if (r.get("toolConfig") or {}).get("toolChoice", {}).get("tool", {}).get("name") == tool
            or (tool is None and not r.get("toolConfig"))
        ]


def client_on(runtime: ScriptedRuntime) -> BedrockClient:
    """The shared Bedrock client on the scripted runtime, with telemetry switched off."""
    return BedrockClient(runtime, metrics=NullMetrics(), tracer=NullTracer(), sleep=lambda _: None)
