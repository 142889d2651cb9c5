"""Structured output through a forced tool, and the bounded tool-use loop."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

from tests.constants import HAIKU, SONNET
from tests.unit.bedrock.fakes import FakeBedrockRuntime, Reply
from workers.shared.bedrock import BedrockClient, StructuredOutputInvalid, ToolLoopExceeded, ToolRegistry, tool_choice

ASK = [{"role": "user", "content": "My parcel never arrived, order 123"}]


class TicketLabel(BaseModel):
    """The category of a support ticket."""

    category: Literal["shipping", "billing", "other"]
    confidence: float


def _label_call(payload: dict[str, object], use_id: str = "t1") -> Reply:
    return Reply(text="", tool_uses=[{"toolUseId": use_id, "name": "record_ticket_label", "input": payload}])


def test_structured_output_is_validated_into_the_model(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(HAIKU, _label_call({"category": "shipping", "confidence": 0.9}))
    result = client.structured("classification", ASK, TicketLabel)
    assert result.output == TicketLabel(category="shipping", confidence=0.9)
    sent = runtime.requests[-1][2]
    assert sent["toolConfig"]["toolChoice"] == {"tool": {"name": "record_ticket_label"}}
    schema = sent["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]
    assert schema["properties"]["category"]["enum"] == ["shipping", "billing", "other"]


def test_invalid_tool_input_gets_one_corrective_retry(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(
        HAIKU,
        _label_call({"category": "parcel", "confidence": "high"}),
        _label_call({"category": "shipping", "confidence": 0.8}, use_id="t2"),
    )
    result = client.structured("classification", ASK, TicketLabel)
    assert result.output.category == "shipping"
    assert result.rounds == 2
    assert result.usage.input_tokens == 20
    corrective = runtime.requests[-1][2]["messages"]
    assert corrective[-2]["content"][0]["toolUse"]["toolUseId"] == "t1"
    tool_result = corrective[-1]["content"][0]["toolResult"]
    assert tool_result["status"] == "error"
    assert "category" in tool_result["content"][0]["text"]


def test_invalid_twice_raises_a_clear_error(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(HAIKU, _label_call({"category": "parcel"}), _label_call({"category": "parcel"}, "t2"))
    with pytest.raises(StructuredOutputInvalid, match="TicketLabel"):
        client.structured("classification", ASK, TicketLabel)
    assert runtime.calls() == 2


def test_plain_text_instead_of_the_tool_is_corrected_too(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(HAIKU, Reply(text="It is shipping."), _label_call({"category": "shipping", "confidence": 1}))
    assert client.structured("classification", ASK, TicketLabel).output.confidence == 1.0
    assert runtime.requests[-1][2]["messages"][-1]["content"] == [
        {"text": "Respond only by calling the tool record_ticket_label."}
    ]


def _tools(calls: list[str]) -> ToolRegistry:
    tools = ToolRegistry()

    @tools.tool("order_status", "Look up an order", {"type": "object", "properties": {"order_id": {"type": "string"}}})
    def order_status(order_id: str) -> dict[str, str]:
        calls.append(order_id)
        if order_id == "bad":
            raise LookupError("no such order")
        return {"order_id": order_id, "status": "shipped"}

    return tools


def _tool_use(order_id: str, use_id: str) -> Reply:
    return Reply(text="", tool_uses=[{"toolUseId": use_id, "name": "order_status", "input": {"order_id": order_id}}])


def test_tool_loop_runs_tools_and_returns_the_final_answer(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    calls: list[str] = []
    runtime.script(SONNET, _tool_use("123", "u1"), Reply(text="Your order shipped."))

    result = client.run_tools("drafting", ASK, _tools(calls), tool_choice=tool_choice("any"))

    assert calls == ["123"]
    assert result.output == "Your order shipped."
    assert result.rounds == 2
    first, second = (r[2] for r in runtime.requests)
    assert first["toolConfig"]["toolChoice"] == {"any": {}}
    assert "toolChoice" not in second["toolConfig"]
    tool_result = second["messages"][-1]["content"][0]["toolResult"]
    assert tool_result == {
        "toolUseId": "u1",
        "content": [{"json": {"order_id": "123", "status": "shipped"}}],
        "status": "success",
    }


def test_tool_errors_go_back_to_the_model(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(SONNET, _tool_use("bad", "u1"), Reply(text="I could not find it."))
    client.run_tools("drafting", ASK, _tools([]))
    tool_result = runtime.requests[-1][2]["messages"][-1]["content"][0]["toolResult"]
    assert tool_result["status"] == "error"
    assert "no such order" in tool_result["content"][0]["text"]


def test_tool_loop_is_bounded(client: BedrockClient, runtime: FakeBedrockRuntime) -> None:
    runtime.script(SONNET, *[_tool_use(str(i), f"u{i}") for i in range(10)])
    with pytest.raises(ToolLoopExceeded, match="3 rounds"):
        client.run_tools("drafting", ASK, _tools([]), max_rounds=3)
    assert runtime.calls() == 3
