"""Translation between Converse request/response shapes and the Anthropic messages body of InvokeModel."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from workers.shared.bedrock.errors import ModelInputInvalid

ANTHROPIC_VERSION = "bedrock-2023-05-31"
_INFERENCE_KEYS = {"temperature": "temperature", "topP": "top_p", "stopSequences": "stop_sequences"}
_USAGE_KEYS = {
    "input_tokens": "inputTokens",
    "output_tokens": "outputTokens",
    "cache_read_input_tokens": "cacheReadInputTokens",
    "cache_creation_input_tokens": "cacheWriteInputTokens",
}


def is_anthropic(model_id: str) -> bool:
    """Whether InvokeModel with the Anthropic messages body applies to this model id."""
    return "anthropic." in model_id


def _tool_result_content(block: Mapping[str, Any]) -> list[dict[str, Any]]:
    parts = []
    for item in block.get("content", []):
        text = item["text"] if "text" in item else json.dumps(item.get("json"), default=str)
        parts.append({"type": "text", "text": text})
    return parts


def _to_anthropic_block(block: Mapping[str, Any]) -> dict[str, Any]:
    if "text" in block:
        return {"type": "text", "text": block["text"]}
    if "toolUse" in block:
        use = block["toolUse"]
        return {"type": "tool_use", "id": use["toolUseId"], "name": use["name"], "input": use.get("input", {})}
    if "toolResult" in block:
        result = block["toolResult"]
        return {
            "type": "tool_result",
            "tool_use_id": result["toolUseId"],
            "content": _tool_result_content(result),
            "is_error": result.get("status") == "error",
        }
    raise ModelInputInvalid(f"content block {sorted(block)} is not supported by the InvokeModel path")


def _to_anthropic_tools(tool_config: Mapping[str, Any]) -> dict[str, Any]:
    tools = [
        {
            "name": t["toolSpec"]["name"],
            "description": t["toolSpec"].get("description", ""),
            "input_schema": t["toolSpec"]["inputSchema"]["json"],
        }
        for t in tool_config.get("tools", [])
    ]
    out: dict[str, Any] = {"tools": tools}
    choice = tool_config.get("toolChoice")
    if choice:
        kind = next(iter(choice))
        out["tool_choice"] = {"type": kind, **({"name": choice["tool"]["name"]} if kind == "tool" else {})}
    return out


def to_anthropic_body(request: Mapping[str, Any]) -> dict[str, Any]:
    """The InvokeModel body for a Converse-shaped request."""
    inference = request.get("inferenceConfig", {})
    body: dict[str, Any] = {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": inference["maxTokens"],
        "messages": [
            {"role": m["role"], "content": [_to_anthropic_block(b) for b in m["content"]]} for m in request["messages"]
        ],
    }
    system = "\n\n".join(str(b["text"]) for b in request.get("system", []) if "text" in b)
    if system:
        body["system"] = system
    for ours, theirs in _INFERENCE_KEYS.items():
        if ours in inference:
            body[theirs] = inference[ours]
    if request.get("toolConfig"):
        body.update(_to_anthropic_tools(request["toolConfig"]))
    return body


def usage_from_anthropic(usage: Mapping[str, Any] | None) -> dict[str, int]:
    """Anthropic usage keys as Converse usage keys."""
    return {theirs: int((usage or {}).get(ours) or 0) for ours, theirs in _USAGE_KEYS.items()}


def from_anthropic_response(response: Mapping[str, Any]) -> dict[str, Any]:
    """A Converse-shaped response (``output.message``, ``stopReason``, ``usage``) from an InvokeModel body."""
    content: list[dict[str, Any]] = []
    for block in response.get("content", []):
        if block.get("type") == "text":
            content.append({"text": block["text"]})
        elif block.get("type") == "tool_use":
            content.append({"toolUse": {"toolUseId": block["id"], "name": block["name"], "input": block["input"]}})
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": response.get("stop_reason") or "end_turn",
        "usage": usage_from_anthropic(response.get("usage")),
    }
