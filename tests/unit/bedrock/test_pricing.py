"""Cost arithmetic from the pricing table, and the cost every result reports."""

from __future__ import annotations

import json

import pytest

from tests.constants import SONNET
from tests.unit.bedrock.fakes import FakeBedrockRuntime, Reply
from workers.shared.bedrock import BedrockClient, BedrockSettings, Pricing, Usage
from workers.shared.bedrock.pricing import estimate_cost

PRICING = Pricing(
    input_per_mtok=3.0, output_per_mtok=15.0, cache_read_per_mtok=0.3, cache_write_per_mtok=3.75, batch_discount=0.5
)


def test_on_demand_cost() -> None:
    assert estimate_cost(PRICING, Usage(input_tokens=1_000_000, output_tokens=100_000)) == pytest.approx(4.5)


def test_batch_discount_applies_to_input_and_output() -> None:
    assert estimate_cost(PRICING, Usage(2_000, 1_000), batch=True) == pytest.approx((2_000 * 3 + 1_000 * 15) / 2 / 1e6)


def test_cache_reads_and_writes_are_priced_separately() -> None:
    usage = Usage(input_tokens=100, output_tokens=0, cache_read_input_tokens=10_000, cache_write_input_tokens=1_000)
    assert estimate_cost(PRICING, usage) == pytest.approx((100 * 3 + 10_000 * 0.3 + 1_000 * 3.75) / 1e6)


def test_result_reports_usage_cost_model_and_attempts(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(SONNET, Reply(text="Dear customer", input_tokens=1200, output_tokens=300))
    result = client.converse("drafting", [{"role": "user", "content": "draft a reply"}])
    assert result.output == result.text == "Dear customer"
    assert result.model_id == SONNET
    assert result.usage == Usage(1200, 300)
    assert result.cost_usd == pytest.approx((1200 * 3 + 300 * 15) / 1e6)
    assert result.attempts == 1
    assert result.fallback is False
    assert result.latency_ms > 0


def test_pricing_table_is_overridable_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "BEDROCK_MODELS",
        json.dumps(
            {
                "m1": {
                    "context_window": 1000,
                    "max_output_tokens": 100,
                    "pricing": {"input_per_mtok": 1, "output_per_mtok": 2},
                }
            }
        ),
    )
    monkeypatch.setenv("BEDROCK_ROUTES", '{"default": {"primary": "m1"}}')
    settings = BedrockSettings()
    assert settings.spec("m1").pricing.output_per_mtok == 2
    assert settings.route("anything").primary == "m1"
    runtime = FakeBedrockRuntime().script("m1", Reply(input_tokens=1_000_000, output_tokens=0))
    assert BedrockClient(runtime, settings).converse(
        "x", [{"role": "user", "content": "hi"}]
    ).cost_usd == pytest.approx(1.0)


def test_routes_naming_unknown_models_fail_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_ROUTES", '{"default": {"primary": "nope"}}')
    with pytest.raises(ValueError, match="missing from the catalogue"):
        BedrockSettings()
