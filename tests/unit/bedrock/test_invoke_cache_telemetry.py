"""InvokeModel with the Anthropic body, the optional response cache, and the telemetry adapters."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools import Tracer

from tests.constants import HAIKU, NOVA_LITE
from tests.unit.bedrock.fakes import FakeBedrockRuntime, RecordingListener, RecordingMetrics, Reply, StreamFailure
from workers.shared.bedrock import (
    BedrockClient,
    BedrockSettings,
    CallRecord,
    InMemoryResponseCache,
    ModelInputInvalid,
    PowertoolsMetrics,
    XRayTracer,
    cache_key,
)

ASK = [{"role": "user", "content": "hello there"}]


def test_invoke_sends_the_anthropic_messages_body(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(HAIKU, Reply(text="hi", input_tokens=7, output_tokens=2))
    result = client.invoke("classification", ASK, system="be kind", inference={"maxTokens": 50, "temperature": 0.1})
    body = runtime.requests[-1][2]
    assert body == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}],
        "system": "be kind",
        "temperature": 0.1,
    }
    assert result.text == "hi"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (7, 2)


def test_invoke_stream_assembles_text_and_retries_mid_stream(
    client: BedrockClient, runtime: FakeBedrockRuntime
) -> None:
    runtime.script(HAIKU, StreamFailure("throttlingException"), Reply(text="all good now"))
    listener = RecordingListener()
    result = client.invoke_stream("classification", ASK, listener=listener)
    assert result.text == "all good now"
    assert "".join(listener.deltas) == "all good now"
    assert runtime.calls("InvokeModelWithResponseStream") == 2


def test_invoke_refuses_non_anthropic_models(client: BedrockClient) -> None:
    with pytest.raises(ModelInputInvalid, match="Anthropic"):
        client.invoke("classification", ASK, model_id=NOVA_LITE)


def test_cache_is_off_by_default(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    client.converse("classification", ASK)
    client.converse("classification", ASK)
    assert runtime.calls() == 2


def test_identical_single_turn_requests_are_served_from_the_cache(runtime: FakeBedrockRuntime) -> None:
    metrics = RecordingMetrics()
    client = BedrockClient(runtime, BedrockSettings(), metrics, InMemoryResponseCache())
    first = client.converse("classification", ASK)
    second = client.converse("classification", ASK)
    assert runtime.calls("Converse") == 1
    assert second.cached and not first.cached
    assert second.text == first.text
    assert second.cost_usd == 0.0
    assert metrics.calls[-1].cached is True
    client.converse(
        "classification", [*ASK, {"role": "assistant", "content": "hi"}, {"role": "user", "content": "again"}]
    )
    client.converse(
        "classification", [*ASK, {"role": "assistant", "content": "hi"}, {"role": "user", "content": "again"}]
    )
    assert runtime.calls("Converse") == 3  # multi-turn never cached


def test_cache_entries_expire() -> None:
    now = [1000.0]
    cache = InMemoryResponseCache(clock=lambda: now[0])
    cache.put("k", {"a": 1}, ttl_s=10)
    assert cache.get("k") == {"a": 1}
    now[0] += 11
    assert cache.get("k") is None


def test_cache_key_is_sha256_of_model_and_request() -> None:
    key = cache_key("m", {"messages": [1], "b": 2})
    assert len(key) == 64
    assert key == cache_key("m", {"b": 2, "messages": [1]})
    assert key != cache_key("other", {"messages": [1], "b": 2})


def test_cache_enabled_without_a_table_fails_at_start() -> None:
    with pytest.raises(ValueError, match="CACHE_TABLE"):
        BedrockSettings(cache_enabled=True)


def test_powertools_metrics_emit_emf_with_a_model_dimension(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    PowertoolsMetrics("supportflow", "test").record_call(
        CallRecord("classification", HAIKU, 12.5, 100, 20, 0.0002, 1, True, 3)
    )
    blob = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert blob["model"] == HAIKU
    assert blob["InputTokens"] in (100.0, [100.0])
    assert blob["ModelFallbacks"] in (1.0, [1.0])
    assert "model" in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]


def test_xray_tracer_is_harmless_when_tracing_is_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Powertools tracing disabled, and a record of every subsegment its provider is asked to open
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    tracer = Tracer()
    opened: list[str] = []
    monkeypatch.setattr(tracer.provider, "in_subsegment", lambda name, **_: opened.append(name))
    # When a span is used as the client uses it
    with XRayTracer(tracer).span("bedrock.converse") as span:
        span.annotate("model_id", HAIKU)
        span.metadata("usage", {"inputTokens": 1})
    # Then no subsegment was opened (no daemon needed, nothing raised)
    assert tracer.disabled
    assert opened == []
