"""The Bedrock client end to end through boto3 and the offline Bedrock wire protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import pytest
from pydantic import BaseModel

from supportflow.bedrock_offline.server import OfflineBedrock
from tests.constants import HAIKU, HAIKU_35
from tests.integration.bedrock_client.conftest import FaultHeader, endpoint_env
from workers.shared.bedrock import (
    BedrockClient,
    BedrockSettings,
    ModelThrottled,
    NullMetrics,
    ToolRegistry,
    tool_choice,
)

pytestmark = pytest.mark.integration

ASK = [{"role": "user", "content": "Hi, my parcel for order 4411 has not arrived after two weeks. Where is it?"}]


class TicketLabel(BaseModel):
    """The category of a support ticket."""

    category: Literal["shipping", "billing", "account", "other"]
    urgent: bool


class _Listener:
    def __init__(self) -> None:
        self.deltas: list[str] = []

    def on_text(self, delta: str) -> None:
        self.deltas.append(delta)

    def on_restart(self, attempt: int) -> None:
        self.deltas.clear()


def test_converse_answers_with_usage_and_cost(client: BedrockClient, server: OfflineBedrock) -> None:
    result = client.converse("classification", ASK, system="You are a support agent.", inference={"maxTokens": 200})
    assert result.text
    assert result.model_id == HAIKU
    assert result.usage.input_tokens > 0
    assert result.usage.output_tokens > 0
    assert result.cost_usd > 0
    assert result.fallback is False
    assert server.request_count("Converse", HAIKU) == 1


def test_converse_stream_delivers_deltas_and_first_token_latency(client: BedrockClient, server: OfflineBedrock) -> None:
    listener = _Listener()
    result = client.converse_stream("classification", ASK, listener=listener)
    assert result.text
    assert "".join(listener.deltas) == result.text
    assert result.first_token_ms is not None
    assert result.usage.output_tokens > 0
    assert server.request_count("ConverseStream", HAIKU) == 1


def test_structured_output_through_a_forced_tool(client: BedrockClient) -> None:
    result = client.structured("classification", ASK, TicketLabel)
    assert isinstance(result.output, TicketLabel)


def test_tool_loop_runs_a_registered_tool(client: BedrockClient) -> None:
    looked_up: list[str] = []
    tools = ToolRegistry()

    @tools.tool(
        "order_status",
        "Look up the shipping status of an order",
        {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
    )
    def order_status(order_id: str) -> dict[str, str]:
        looked_up.append(order_id)
        return {"order_id": order_id, "status": "in transit"}

    result = client.run_tools("drafting", ASK, tools, tool_choice=tool_choice("any"), max_rounds=3)
    assert looked_up
    assert result.rounds >= 2
    assert result.stop_reason != "tool_use"


def test_botocore_retries_a_transient_throttle_seen_server_side(client: BedrockClient, server: OfflineBedrock) -> None:
    server.faults.add({"fault": "throttle", "model": HAIKU, "operation": "Converse", "first": 2})
    result = client.converse("classification", ASK)
    assert server.request_count("Converse", HAIKU) == 3  # botocore: 2 throttled + 1 success
    assert result.attempts == 3
    assert result.fallback is False


def test_sustained_throttle_falls_back_and_records_it(client: BedrockClient, server: OfflineBedrock) -> None:
    server.faults.add({"fault": "throttle", "model": HAIKU})
    result = client.converse("classification", ASK)
    assert server.request_count("Converse", HAIKU) == 3  # total_max_attempts
    assert server.request_count("Converse", HAIKU_35) == 1
    assert result.fallback is True
    assert result.model_id == HAIKU_35
    assert result.requested_model_id == HAIKU


def test_mid_stream_throttle_is_retried_by_the_module(client: BedrockClient, server: OfflineBedrock) -> None:
    server.faults.add({"fault": "stream-throttle", "model": HAIKU, "first": 1})
    listener = _Listener()
    result = client.converse_stream("classification", ASK, listener=listener)
    assert server.request_count("ConverseStream", HAIKU) == 2  # botocore never retries inside a stream
    assert result.fallback is False
    assert "".join(listener.deltas) == result.text


def test_model_timeout_is_retried_once_smaller(client: BedrockClient, server: OfflineBedrock) -> None:
    server.faults.add({"fault": "model-timeout", "model": HAIKU, "first": 1})
    result = client.converse("classification", ASK, inference={"maxTokens": 400})
    assert server.request_count("Converse", HAIKU) == 2
    assert result.text


def test_fault_header_from_boto3_events_throttles_every_attempt(
    make_client: Callable[..., BedrockClient], server: OfflineBedrock, fault_header: FaultHeader
) -> None:
    fault_header.value = "throttle"
    with pytest.raises(ModelThrottled) as caught:
        make_client().converse("classification", ASK, model_id=HAIKU)
    assert caught.value.models_tried == (HAIKU,)
    assert server.request_count("Converse", HAIKU) == 3


def test_count_tokens_uses_the_bedrock_api(client: BedrockClient, server: OfflineBedrock) -> None:
    counted = client.count_tokens(ASK, task="classification", system="You are a support agent.")
    assert counted.method == "count_tokens"
    assert counted.tokens > 0
    assert server.request_count("CountTokens") == 1


def test_invoke_and_invoke_stream_with_the_anthropic_body(client: BedrockClient) -> None:
    assert client.invoke("classification", ASK, inference={"maxTokens": 200}).text
    streamed = client.invoke_stream("classification", ASK, inference={"maxTokens": 200})
    assert streamed.text
    assert streamed.usage.output_tokens > 0


def test_boto3_client_is_built_lazily_from_the_environment(
    server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in endpoint_env(server).items():
        monkeypatch.setenv(key, value)
    client = BedrockClient(settings=BedrockSettings(), metrics=NullMetrics())
    assert client.converse("classification", ASK).text
    assert server.request_count("Converse", HAIKU) == 1
