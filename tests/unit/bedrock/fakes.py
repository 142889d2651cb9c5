"""Hand-written fakes of the Bedrock client's ports (no boto3, no network)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, EventStreamError

from workers.shared.bedrock.ports import CallRecord, SpanPort


def client_error(code: str, status: int, operation: str = "Converse", retry_attempts: int = 0) -> ClientError:
    """A ClientError exactly as botocore raises it after parsing an error response."""
    response: Any = {
        "Error": {"Code": code, "Message": f"injected {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": retry_attempts},
    }
    return ClientError(response, operation)


def stream_error(code: str) -> EventStreamError:
    """The EventStreamError botocore raises while iterating an exception frame (lowerCamel code)."""
    return EventStreamError({"Error": {"Code": code, "Message": f"injected {code}"}}, "ConverseStream")


@dataclass
class Reply:
    """A scripted model reply: text and/or tool uses, usage, stop reason."""

    text: str = "ok"
    tool_uses: list[dict[str, Any]] = field(default_factory=list)
    input_tokens: int = 10
    output_tokens: int = 5
    stop_reason: str | None = None

    def converse_response(self) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"text": self.text}] if self.text else []
        content += [{"toolUse": t} for t in self.tool_uses]
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self.stop_reason or ("tool_use" if self.tool_uses else "end_turn"),
            "usage": {
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
                "totalTokens": self.input_tokens + self.output_tokens,
            },
            "metrics": {"latencyMs": 1},
            "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
        }

    def stream_events(self, fail_after: int | None, error: EventStreamError | None) -> Iterator[dict[str, Any]]:
        yield {"messageStart": {"role": "assistant"}}
        words = self.text.split(" ")
        for i, word in enumerate(words):
            if error is not None and fail_after is not None and i >= fail_after:
                raise error
            delta = word if i == 0 else " " + word
            yield {"contentBlockDelta": {"delta": {"text": delta}, "contentBlockIndex": 0}}
        if error is not None:
            raise error
        yield {"contentBlockStop": {"contentBlockIndex": 0}}
        yield {"messageStop": {"stopReason": self.stop_reason or "end_turn"}}
        yield {
            "metadata": {
                "usage": {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens},
                "metrics": {"latencyMs": 1},
            }
        }

    def anthropic_body(self) -> dict[str, Any]:
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": self.text}],
            "stop_reason": self.stop_reason or "end_turn",
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
        }


@dataclass
class StreamFailure:
    """A stream that starts, sends ``after`` deltas, then raises an exception frame."""

    code: str
    after: int = 1
    reply: Reply = field(default_factory=lambda: Reply(text="partial answer that never ends"))


Step = Reply | ClientError | StreamFailure


class FakeBedrockRuntime:
    """BedrockRuntimePort fake: per-model scripts of replies and errors; records every request.

    A model with no script left answers ``Reply()``. CountTokens counts 1 token per 4 chars of
    the JSON it receives, unless the model id is in ``count_tokens_unsupported``.
    """

    def __init__(self) -> None:
        self.scripts: dict[str, list[Step]] = defaultdict(list)
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.count_tokens_calls: list[tuple[str, dict[str, Any]]] = []
        self.count_tokens_unsupported: set[str] = set()

    def script(self, model_id: str, *steps: Step) -> FakeBedrockRuntime:
        self.scripts[model_id].extend(steps)
        return self

    def calls(self, operation: str | None = None, model_id: str | None = None) -> int:
        return sum(1 for op, m, _ in self.requests if operation in (None, op) and model_id in (None, m))

    def _next(self, operation: str, model_id: str, request: Mapping[str, Any]) -> Step:
        self.requests.append((operation, model_id, json.loads(json.dumps(request))))
        queue = self.scripts.get(model_id)
        return queue.pop(0) if queue else Reply()

    def converse(self, request: Mapping[str, Any]) -> dict[str, Any]:
        step = self._next("Converse", request["modelId"], request)
        if isinstance(step, ClientError):
            raise step
        if isinstance(step, StreamFailure):
            raise AssertionError("StreamFailure scripted for a non-stream call")
        return step.converse_response()

    def converse_stream(self, request: Mapping[str, Any]) -> dict[str, Any]:
        step = self._next("ConverseStream", request["modelId"], request)
        if isinstance(step, ClientError):
            raise step
        if isinstance(step, StreamFailure):
            events = step.reply.stream_events(step.after, stream_error(step.code))
        else:
            events = step.stream_events(None, None)
        return {"stream": events, "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}

    def invoke_model(self, model_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        step = self._next("InvokeModel", model_id, body)
        if isinstance(step, ClientError):
            raise step
        assert isinstance(step, Reply)
        return step.anthropic_body()

    def invoke_model_stream(self, model_id: str, body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        step = self._next("InvokeModelWithResponseStream", model_id, body)
        if isinstance(step, ClientError):
            raise step
        reply = step.reply if isinstance(step, StreamFailure) else step
        yield {"type": "message_start", "message": {"usage": {"input_tokens": reply.input_tokens}}}
        yield {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        for i, word in enumerate(reply.text.split(" ")):
            if isinstance(step, StreamFailure) and i >= step.after:
                raise stream_error(step.code)
            yield {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": (" " if i else "") + word},
            }
        yield {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": reply.output_tokens},
        }
        yield {"type": "message_stop"}

    def count_tokens(self, model_id: str, input: Mapping[str, Any]) -> int:
        self.count_tokens_calls.append((model_id, json.loads(json.dumps(input))))
        if model_id in self.count_tokens_unsupported:
            raise client_error("ValidationException", 400, "CountTokens")
        return len(json.dumps(input)) // 4


class RecordingMetrics:
    """MetricsPort fake that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []
        self.fallbacks: list[tuple[str, str, str]] = []

    def record_call(self, record: CallRecord) -> None:
        self.calls.append(record)

    def record_fallback(self, task: str, from_model: str, to_model: str) -> None:
        self.fallbacks.append((task, from_model, to_model))


class _RecordedSpan:
    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}

    def annotate(self, key: str, value: str | int | float | bool) -> None:
        self.annotations[key] = value

    def metadata(self, key: str, value: Any) -> None:
        self.meta[key] = value


class RecordingTracer:
    """TracerPort fake that keeps its spans."""

    def __init__(self) -> None:
        self.spans: list[_RecordedSpan] = []

    @contextmanager
    def _open(self, name: str) -> Iterator[SpanPort]:
        span = _RecordedSpan(name)
        self.spans.append(span)
        yield span

    def span(self, name: str) -> AbstractContextManager[SpanPort]:
        return self._open(name)


class RecordingListener:
    """StreamListener that keeps the deltas and restarts."""

    def __init__(self) -> None:
        self.deltas: list[str] = []
        self.restarts: list[int] = []

    def on_text(self, delta: str) -> None:
        self.deltas.append(delta)

    def on_restart(self, attempt: int) -> None:
        self.restarts.append(attempt)
        self.deltas.clear()
