"""Tools the model may call: Python callables registered with a JSON schema, and their Converse config."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from workers.shared.bedrock.errors import ModelInputInvalid

logger = logging.getLogger(__name__)

ToolFunction = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Tool:
    """One tool: name, description, input JSON schema and the callable that runs it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    function: ToolFunction

    def spec(self) -> dict[str, Any]:
        """The Converse ``toolSpec``."""
        return {
            "toolSpec": {"name": self.name, "description": self.description, "inputSchema": {"json": self.input_schema}}
        }


def tool_choice(kind: str, name: str | None = None) -> dict[str, Any]:
    """Converse ``toolChoice``: ``auto``, ``any`` or a specific ``tool`` by name."""
    if kind == "tool":
        if not name:
            raise ModelInputInvalid("toolChoice 'tool' needs a tool name")
        return {"tool": {"name": name}}
    if kind in ("auto", "any"):
        return {kind: {}}
    raise ModelInputInvalid(f"unknown toolChoice {kind!r}")


def schema_tool_spec(name: str, model: type[BaseModel], description: str | None = None) -> dict[str, Any]:
    """A ``toolSpec`` whose input schema is a pydantic model's JSON schema (structured output)."""
    text = description or (model.__doc__ or f"Record the {model.__name__}.").strip()
    return {"toolSpec": {"name": name, "description": text, "inputSchema": {"json": model.model_json_schema()}}}


class ToolRegistry:
    """The tools offered to the model in a tool loop."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, name: str, description: str, input_schema: Mapping[str, Any], function: ToolFunction) -> Tool:
        """Register a callable invoked as ``function(**tool_input)``."""
        if name in self._tools:
            raise ValueError(f"tool {name!r} already registered")
        tool = Tool(name, description, dict(input_schema), function)
        self._tools[name] = tool
        return tool

    def tool(
        self, name: str, description: str, input_schema: Mapping[str, Any]
    ) -> Callable[[ToolFunction], ToolFunction]:
        """Decorator form of ``register``."""

        def decorate(function: ToolFunction) -> ToolFunction:
            self.register(name, description, input_schema, function)
            return function

        return decorate

    def __len__(self) -> int:
        return len(self._tools)

    def tool_config(self, choice: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The Converse ``toolConfig`` for every registered tool."""
        if not self._tools:
            raise ModelInputInvalid("a tool loop needs at least one registered tool")
        config: dict[str, Any] = {"tools": [t.spec() for t in self._tools.values()]}
        if choice:
            config["toolChoice"] = dict(choice)
        return config

    def run(self, tool_use: Mapping[str, Any]) -> dict[str, Any]:
        """Run one toolUse block; failures go back to the model as an error toolResult, not up the stack."""
        tool_use_id = str(tool_use["toolUseId"])
        tool = self._tools.get(str(tool_use["name"]))
        if tool is None:
            return _tool_result(tool_use_id, {"text": f"unknown tool {tool_use['name']!r}"}, "error")
        try:
            output = tool.function(**dict(tool_use.get("input") or {}))
        except Exception as exc:
            logger.warning("tool failed", extra={"tool": tool.name, "error": repr(exc)})
            return _tool_result(tool_use_id, {"text": f"{type(exc).__name__}: {exc}"}, "error")
        if isinstance(output, BaseModel):
            output = output.model_dump(mode="json")
        content = (
            {"json": output}
            if isinstance(output, dict)
            else {"text": output if isinstance(output, str) else json.dumps(output, default=str)}
        )
        return _tool_result(tool_use_id, content, "success")


def _tool_result(tool_use_id: str, content: dict[str, Any], status: str) -> dict[str, Any]:
    return {"toolResult": {"toolUseId": tool_use_id, "content": [content], "status": status}}
