"""Retries: botocore owns request-level ones; this module retries mid-stream errors, shrinks after a
model timeout, falls back on sustained throttling, and fails at once on non-retryable errors."""

from __future__ import annotations

import pytest

from tests.constants import HAIKU, HAIKU_35, NOVA_LITE, SONNET
from tests.unit.bedrock.fakes import (
    FakeBedrockRuntime,
    RecordingListener,
    RecordingMetrics,
    RecordingTracer,
    Reply,
    StreamFailure,
    client_error,
)
from workers.shared.bedrock import (
    BedrockClient,
    BedrockSettings,
    ModelAccessDenied,
    ModelInputInvalid,
    ModelNotFound,
    ModelThrottled,
    ModelTimedOut,
    StreamThrottled,
)

ASK = [{"role": "user", "content": "where is my order?"}]


def test_mid_stream_throttle_is_retried_and_the_listener_restarts(
    client: BedrockClient, runtime: FakeBedrockRuntime, sleeps: list[float]
) -> None:
    # Given the first stream dies with a throttlingException frame after one delta
    runtime.script(HAIKU, StreamFailure("throttlingException", after=1), Reply(text="it ships today"))
    listener = RecordingListener()

    # When streaming
    result = client.converse_stream("classification", ASK, listener=listener)

    # Then the module retried (tenacity, jittered, bounded) and the answer is complete
    assert result.text == "it ships today"
    assert "".join(listener.deltas) == "it ships today"
    assert listener.restarts == [2]
    assert runtime.calls("ConverseStream", HAIKU) == 2
    assert result.attempts == 2
    assert result.fallback is False
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= client.settings.stream_retry_max_wait_s
    assert result.first_token_ms is not None


@pytest.mark.parametrize(
    "code", ["modelStreamErrorException", "serviceUnavailableException", "internalServerException"]
)
def test_other_stream_errors_are_retried(client: BedrockClient, runtime: FakeBedrockRuntime, code: str) -> None:
    runtime.script(HAIKU, StreamFailure(code), Reply(text="done"))
    assert client.converse_stream("classification", ASK).text == "done"


def test_sustained_mid_stream_throttle_falls_back_to_the_next_model(
    client: BedrockClient, runtime: FakeBedrockRuntime, metrics: RecordingMetrics
) -> None:
    attempts = client.settings.stream_retry_attempts
    runtime.script(HAIKU, *[StreamFailure("throttlingException")] * attempts)
    runtime.script(HAIKU_35, Reply(text="fallback answer"))

    result = client.converse_stream("classification", ASK)

    assert result.text == "fallback answer"
    assert result.model_id == HAIKU_35
    assert result.requested_model_id == HAIKU
    assert result.fallback is True
    assert result.models_tried == (HAIKU, HAIKU_35)
    assert runtime.calls("ConverseStream", HAIKU) == attempts
    assert metrics.fallbacks == [("classification", HAIKU, HAIKU_35)]
    assert metrics.calls[-1].throttles == attempts
    assert metrics.calls[-1].fallback is True


def test_a_fallback_after_a_partial_stream_voids_the_text_already_streamed(
    client: BedrockClient, runtime: FakeBedrockRuntime
) -> None:
    # Given a primary model whose every stream attempt breaks after a partial answer, and a fallback
    attempts = client.settings.stream_retry_attempts
    runtime.script(HAIKU, *[StreamFailure("throttlingException")] * attempts)
    runtime.script(HAIKU_35, Reply(text="fallback answer"))
    listener = RecordingListener()
    # When the answer streams through the fallback
    result = client.converse_stream("classification", ASK, listener=listener)
    # Then the listener was told to restart before the fallback's text: it holds only the final answer
    assert len(listener.restarts) == attempts
    assert "".join(listener.deltas) == result.text == "fallback answer"


def test_request_level_throttle_after_botocore_retries_falls_back_without_more_retries(
    client: BedrockClient, runtime: FakeBedrockRuntime, sleeps: list[float]
) -> None:
    # botocore already retried 3 times (RetryAttempts=3) before raising
    runtime.script(SONNET, client_error("ThrottlingException", 429, retry_attempts=3))
    result = client.converse("drafting", ASK)
    assert result.fallback is True
    assert result.model_id == "us.anthropic.claude-sonnet-4-20250514-v1:0"
    assert runtime.calls("Converse", SONNET) == 1  # no application retry on top of botocore's
    assert result.attempts == 5  # 4 HTTP attempts on the primary + 1 on the fallback
    assert sleeps == []


def test_every_model_throttled_raises_model_throttled_naming_them(
    client: BedrockClient, runtime: FakeBedrockRuntime
) -> None:
    for model in (HAIKU, HAIKU_35, NOVA_LITE):
        runtime.script(model, client_error("ThrottlingException", 429))
    with pytest.raises(ModelThrottled) as caught:
        client.converse("classification", ASK)
    assert caught.value.models_tried == (HAIKU, HAIKU_35, NOVA_LITE)
    assert not isinstance(caught.value, StreamThrottled)


def test_unavailable_falls_back_too(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(HAIKU, client_error("ServiceUnavailableException", 503))
    assert client.converse("classification", ASK).model_id == HAIKU_35


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ValidationException", 400, ModelInputInvalid),
        ("AccessDeniedException", 403, ModelAccessDenied),
        ("ResourceNotFoundException", 404, ModelNotFound),
    ],
)
def test_non_retryable_errors_raise_at_once(
    client: BedrockClient,
    runtime: FakeBedrockRuntime,
    sleeps: list[float],
    code: str,
    status: int,
    kind: type[Exception],
) -> None:
    runtime.script(HAIKU, client_error(code, status))
    with pytest.raises(kind, match=code):
        client.converse("classification", ASK)
    assert runtime.calls() == 1
    assert sleeps == []


def test_non_retryable_error_inside_a_stream_is_not_retried(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(HAIKU, StreamFailure("validationException"))
    with pytest.raises(ModelInputInvalid):
        client.converse_stream("classification", ASK)
    assert runtime.calls() == 1


def test_model_timeout_is_retried_once_with_a_smaller_request(
    client: BedrockClient, runtime: FakeBedrockRuntime, tracer: RecordingTracer
) -> None:
    history = []
    for i in range(3):
        history += [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
    history.append({"role": "user", "content": "latest"})
    runtime.script(HAIKU, client_error("ModelTimeoutException", 408), Reply(text="done"))

    result = client.converse("classification", history, inference={"maxTokens": 800})

    first, second = (r[2] for r in runtime.requests if r[0] == "Converse")
    assert first["inferenceConfig"]["maxTokens"] == 800
    assert second["inferenceConfig"]["maxTokens"] == 400
    assert len(second["messages"]) < len(first["messages"])
    assert second["messages"][-1] == {"role": "user", "content": [{"text": "latest"}]}
    assert result.text == "done"
    assert result.trimmed_messages > 0
    assert tracer.spans[-1].annotations["timeout_retry"] is True


def test_second_model_timeout_raises(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(HAIKU, client_error("ModelTimeoutException", 408), client_error("ModelTimeoutException", 408))
    with pytest.raises(ModelTimedOut):
        client.converse("classification", ASK)
    assert runtime.calls() == 2


def test_each_call_is_traced_with_model_annotation_and_token_metadata(
    client: BedrockClient, runtime: FakeBedrockRuntime, tracer: RecordingTracer
) -> None:
    client.converse("classification", ASK)
    span = tracer.spans[-1]
    assert span.name == "bedrock.converse"
    assert span.annotations["model_id"] == HAIKU
    assert span.meta["usage"]["inputTokens"] == 10
    assert span.meta["input_tokens_counted"]["method"] == "count_tokens"


def test_stream_retry_attempts_are_configurable(runtime: FakeBedrockRuntime) -> None:
    client = BedrockClient(runtime, BedrockSettings(stream_retry_attempts=1), sleep=lambda _s: None)
    runtime.script(HAIKU, StreamFailure("throttlingException"))
    assert client.converse_stream("classification", ASK).fallback is True
    assert runtime.calls("ConverseStream", HAIKU) == 1
