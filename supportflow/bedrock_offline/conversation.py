"""Wire-neutral view of a model request: Converse and Anthropic bodies both parse into this."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any


class BedrockError(Exception):
    """An error Bedrock would return: HTTP status, ``x-amzn-ErrorType`` and message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def validation(message: str) -> BedrockError:
    """A 400 ValidationException."""
    return BedrockError(400, "ValidationException", message)


@dataclass
class ToolSpec:
    """A tool the caller offers: name, description, JSON schema of its input."""

    name: str
    description: str
    schema: dict[str, Any]


@dataclass
class Turn:
    """One message: its role, texts, tool calls made and tool results returned."""

    role: str
    texts: list[str] = field(default_factory=list)
    tool_uses: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)


@dataclass
class Conversation:
    """Everything the engine needs from a request."""

    model_id: str
    system: str
    turns: list[Turn]
    tools: list[ToolSpec]
    tool_choice: str = "auto"  # auto | any | tool | none
    tool_name: str | None = None
    max_tokens: int | None = None
    stop_sequences: list[str] = field(default_factory=list)

    @property
    def last(self) -> Turn:
        """The final message."""
        return self.turns[-1]

    def user_text(self) -> str:
        """Text of the last user message (the thing to answer)."""
        for turn in reversed(self.turns):
            if turn.role == "user" and turn.texts:
                return "\n".join(turn.texts)
        return ""

    def all_user_text(self) -> str:
        """All user texts, oldest first (used for extraction)."""
        return "\n".join(t for turn in self.turns if turn.role == "user" for t in turn.texts)

    def documents(self) -> list[str]:
        """Text of attached documents and tool results, the 'retrieved context' of a request."""
        return [d for turn in self.turns for d in (*turn.documents, *turn.tool_results)]

    def token_texts(self) -> list[str]:
        """Every piece of text that counts as input tokens."""
        out = [self.system] if self.system else []
        for turn in self.turns:
            out.extend(turn.texts)
            out.extend(turn.tool_results)
            out.extend(turn.documents)
            out.extend(json.dumps(use, sort_keys=True) for use in turn.tool_uses)
        out.extend(f"{t.name} {t.description} {json.dumps(t.schema, sort_keys=True)}" for t in self.tools)
        return out


# --- Converse --------------------------------------------------------------------------------------

_TEXT_DOC_FORMATS = {"txt", "md", "html", "csv"}
_FIRST_USER = (
    "A conversation must start with a user message. Try again with a conversation that starts with a user message."
)
_MALFORMED = "Malformed input request: {}, please reformat your input and try again."


def _decode_doc(block: dict[str, Any]) -> str:
    source = block.get("source") or {}
    raw = source.get("bytes")
    if isinstance(raw, str) and block.get("format") in _TEXT_DOC_FORMATS:
        try:
            return base64.b64decode(raw).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return ""
    if isinstance(source.get("text"), str):
        return str(source["text"])
    return ""


def _result_text(content: list[dict[str, Any]] | str | None) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for item in content or []:
        if "text" in item:
            parts.append(str(item["text"]))
        elif "json" in item:
            parts.append(json.dumps(item["json"], sort_keys=True))
    return "\n".join(parts)


def parse_converse(model_id: str, body: dict[str, Any]) -> Conversation:
    """Validate and parse a Converse/ConverseStream request body."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise validation(_FIRST_USER)
    turns: list[Turn] = []
    for i, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content")
        if role not in ("user", "assistant"):
            raise validation(
                f"1 validation error detected: Value at 'messages.{i + 1}.member.role' failed to satisfy "
                "constraint: Member must satisfy enum value set: [user, assistant]"
            )
        if not content:
            raise validation(
                f"The content field in the Message object at messages.{i}.content is empty. "
                "Add a ContentBlock object to the content field and try again."
            )
        turn = Turn(role=role)
        for block in content:
            if "text" in block:
                if not str(block["text"]).strip():
                    raise validation(
                        f"The text field in the ContentBlock object at messages.{i}.content.0 is blank. "
                        "Add text to the text field, and try again."
                    )
                turn.texts.append(str(block["text"]))
            elif "toolUse" in block:
                turn.tool_uses.append(block["toolUse"])
            elif "toolResult" in block:
                turn.tool_results.append(_result_text(block["toolResult"].get("content")))
            elif "document" in block:
                turn.documents.append(_decode_doc(block["document"]))
        turns.append(turn)
    if turns[0].role != "user":
        raise validation(_FIRST_USER)
    system = "\n".join(str(b["text"]) for b in body.get("system") or [] if "text" in b)
    tools, choice, choice_name = _converse_tools(body.get("toolConfig"))
    inference = body.get("inferenceConfig") or {}
    return Conversation(
        model_id=model_id,
        system=system,
        turns=turns,
        tools=tools,
        tool_choice=choice,
        tool_name=choice_name,
        max_tokens=inference.get("maxTokens"),
        stop_sequences=list(inference.get("stopSequences") or []),
    )


def _converse_tools(config: dict[str, Any] | None) -> tuple[list[ToolSpec], str, str | None]:
    if not config:
        return [], "none", None
    tools = []
    for tool in config.get("tools") or []:
        spec = tool.get("toolSpec")
        if spec:
            schema = (spec.get("inputSchema") or {}).get("json") or {"type": "object", "properties": {}}
            tools.append(ToolSpec(spec["name"], spec.get("description", ""), schema))
    if not tools:
        raise validation("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    choice = config.get("toolChoice") or {"auto": {}}
    if "tool" in choice:
        name = choice["tool"].get("name")
        if name not in {t.name for t in tools}:
            raise validation(f"The tool {name} in toolChoice is not defined in toolConfig.tools.")
        return tools, "tool", name
    return tools, "any" if "any" in choice else "auto", None


# --- Anthropic messages (InvokeModel) --------------------------------------------------------------


def _anthropic_content(content: Any, index: int, turn: Turn) -> None:
    if isinstance(content, str):
        if not content.strip():
            raise validation(f"messages.{index}.content: text content blocks must be non-empty")
        turn.texts.append(content)
        return
    if not isinstance(content, list) or not content:
        raise validation(
            f"messages.{index}: all messages must have non-empty content "
            "except for the optional final assistant message"
        )
    for block in content:
        kind = block.get("type")
        if kind == "text":
            turn.texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            turn.tool_uses.append(
                {"toolUseId": block.get("id"), "name": block.get("name"), "input": block.get("input")}
            )
        elif kind == "tool_result":
            turn.tool_results.append(_result_text(block.get("content")))
        elif kind == "document":
            source = block.get("source") or {}
            if source.get("type") == "text":
                turn.documents.append(str(source.get("data", "")))


def parse_anthropic(model_id: str, body: dict[str, Any]) -> Conversation:
    """Validate and parse an Anthropic messages body (``anthropic_version``, ``messages``...)."""
    if "anthropic_version" not in body:
        raise validation(_MALFORMED.format("#: required key [anthropic_version] not found"))
    if not isinstance(body.get("max_tokens"), int):
        raise validation(_MALFORMED.format("#: required key [max_tokens] not found"))
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise validation(_MALFORMED.format("#/messages: expected minimum item count: 1, found: 0"))
    turns = []
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise validation(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        turn = Turn(role=role)
        _anthropic_content(message.get("content"), i, turn)
        turns.append(turn)
    if turns[0].role != "user":
        raise validation('messages: first message must use the "user" role')
    system_raw = body.get("system") or ""
    system = system_raw if isinstance(system_raw, str) else "\n".join(str(b.get("text", "")) for b in system_raw)
    tools = [
        ToolSpec(t["name"], t.get("description", ""), t.get("input_schema") or {"type": "object", "properties": {}})
        for t in body.get("tools") or []
        if "name" in t
    ]
    choice_raw = body.get("tool_choice") or {"type": "auto"}
    choice = str(choice_raw.get("type", "auto")) if tools else "none"
    name = choice_raw.get("name") if choice == "tool" else None
    if choice == "tool" and name not in {t.name for t in tools}:
        raise validation(f"tool_choice.name: tool {name!r} not found in tools")
    return Conversation(
        model_id=model_id,
        system=system,
        turns=turns,
        tools=tools,
        tool_choice=choice,
        tool_name=name,
        max_tokens=int(body["max_tokens"]),
        stop_sequences=list(body.get("stop_sequences") or []),
    )


# --- model ids -------------------------------------------------------------------------------------

_PROVIDERS = (
    "anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer|stability|twelvelabs|luma|google|"
    "minimax|moonshot|nvidia"
)
_MODEL_ID = re.compile(rf"^(?:(?:us|eu|apac|us-gov|global|jp|au|ca)\.)?(?:{_PROVIDERS})\.[a-z0-9][a-z0-9.:_-]*$")
_MODEL_ARN = re.compile(
    r"^arn:aws(?:-[a-z-]+)?:bedrock:[a-z0-9-]*:\d{0,12}:"
    r"(?:foundation-model|inference-profile|application-inference-profile|provisioned-model|custom-model|"
    r"imported-model|prompt|default-prompt-router|prompt-router)/.+$"
)
# (pattern, max output tokens) checked in order; the first match wins.
_MAX_OUTPUT: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"claude-3-haiku|claude-3-sonnet|claude-3-opus|claude-instant|claude-v2"), 4096),
    (re.compile(r"claude-3-5"), 8192),
    (re.compile(r"claude-opus-4"), 32000),
    (re.compile(r"claude-(?:3-7|sonnet-4|haiku-4)"), 64000),
    (re.compile(r"titan-text"), 8192),
    (re.compile(r"nova"), 10000),
]


def check_model_id(model_id: str) -> None:
    """Reject identifiers Bedrock would not accept."""
    if not (_MODEL_ID.match(model_id) or _MODEL_ARN.match(model_id)):
        raise validation("The provided model identifier is invalid.")


def max_output_tokens(model_id: str) -> int:
    """The model's output-token limit (8192 when the family is not in the table)."""
    for pattern, limit in _MAX_OUTPUT:
        if pattern.search(model_id):
            return limit
    return 8192


def check_max_tokens(conv: Conversation) -> None:
    """maxTokens must be positive and within the model's limit."""
    if conv.max_tokens is None:
        return
    limit = max_output_tokens(conv.model_id)
    if conv.max_tokens < 1:
        raise validation("The maximum tokens you requested must be at least 1.")
    if conv.max_tokens > limit:
        raise validation(
            f"The maximum tokens you requested exceeds the model limit of {limit}. "
            f"Try again with a maximum tokens value that is lower than {limit}."
        )
