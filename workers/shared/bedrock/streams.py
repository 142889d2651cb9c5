"""Assemble ConverseStream events and Anthropic stream chunks into a Converse-shaped response."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from workers.shared.bedrock.anthropic import usage_from_anthropic


class _Blocks:
    def __init__(self) -> None:
        self.text: dict[int, list[str]] = {}
        self.tool: dict[int, dict[str, Any]] = {}
        self.tool_input: dict[int, list[str]] = {}
        self.stop_reason = "end_turn"
        self.usage: dict[str, Any] = {}

    def add_text(self, index: int, text: str) -> None:
        self.text.setdefault(index, []).append(text)

    def start_tool(self, index: int, tool_use_id: str, name: str) -> None:
        self.tool[index] = {"toolUseId": tool_use_id, "name": name}

    def add_tool_input(self, index: int, partial_json: str) -> None:
        self.tool_input.setdefault(index, []).append(partial_json)

    def response(self) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        for index in sorted({*self.text, *self.tool}):
            if index in self.tool:
                raw = "".join(self.tool_input.get(index, [])) or "{}"
                content.append({"toolUse": {**self.tool[index], "input": json.loads(raw)}})
            else:
                content.append({"text": "".join(self.text[index])})
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self.stop_reason,
            "usage": self.usage,
        }


class ConverseStreamAssembler:
    """Feeds ConverseStream events; returns text deltas as they come and the whole response at the end."""

    def __init__(self) -> None:
        self._blocks = _Blocks()

    def feed(self, event: Mapping[str, Any]) -> str | None:
        """Consume one event; the text delta it carries, if any."""
        if "contentBlockDelta" in event:
            body = event["contentBlockDelta"]
            delta, index = body["delta"], int(body.get("contentBlockIndex", 0))
            if "text" in delta:
                self._blocks.add_text(index, delta["text"])
                return str(delta["text"])
            if "toolUse" in delta:
                self._blocks.add_tool_input(index, delta["toolUse"].get("input", ""))
        elif "contentBlockStart" in event:
            body = event["contentBlockStart"]
            tool = body.get("start", {}).get("toolUse")
            if tool:
                self._blocks.start_tool(int(body.get("contentBlockIndex", 0)), tool["toolUseId"], tool["name"])
        elif "messageStop" in event:
            self._blocks.stop_reason = event["messageStop"]["stopReason"]
        elif "metadata" in event:
            self._blocks.usage = dict(event["metadata"].get("usage", {}))
        return None

    def response(self) -> dict[str, Any]:
        """The Converse-shaped response assembled so far."""
        return self._blocks.response()


class AnthropicStreamAssembler:
    """Feeds InvokeModelWithResponseStream chunks (Anthropic messages events)."""

    def __init__(self) -> None:
        self._blocks = _Blocks()
        self._usage: dict[str, Any] = {}

    def feed(self, chunk: Mapping[str, Any]) -> str | None:
        """Consume one chunk; the text delta it carries, if any."""
        kind = chunk.get("type")
        index = int(chunk.get("index", 0))
        if kind == "content_block_delta":
            delta = chunk["delta"]
            if delta.get("type") == "text_delta":
                self._blocks.add_text(index, delta["text"])
                return str(delta["text"])
            if delta.get("type") == "input_json_delta":
                self._blocks.add_tool_input(index, delta.get("partial_json", ""))
        elif kind == "content_block_start" and chunk["content_block"].get("type") == "tool_use":
            block = chunk["content_block"]
            self._blocks.start_tool(index, block["id"], block["name"])
        elif kind == "message_start":
            self._usage.update(chunk.get("message", {}).get("usage", {}))
        elif kind == "message_delta":
            self._blocks.stop_reason = chunk.get("delta", {}).get("stop_reason") or self._blocks.stop_reason
            self._usage.update(chunk.get("usage", {}))
        return None

    def response(self) -> dict[str, Any]:
        """The Converse-shaped response assembled so far."""
        self._blocks.usage = usage_from_anthropic(self._usage)
        return self._blocks.response()
