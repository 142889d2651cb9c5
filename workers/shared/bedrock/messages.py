"""Converse message normalisation and oldest-first history trimming, before anything reaches AWS."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from workers.shared.bedrock.errors import ModelInputInvalid

Message = dict[str, Any]
MessageLike = Mapping[str, Any]
_ROLES = ("user", "assistant")


def _block_is_empty(block: Mapping[str, Any]) -> bool:
    if "text" in block:
        return not str(block["text"]).strip()
    return not block


def _content_blocks(message: MessageLike, index: int) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        blocks: list[dict[str, Any]] = [{"text": content}]
    elif isinstance(content, Sequence) and not isinstance(content, bytes):
        blocks = [dict(b) for b in content]
    else:
        raise ModelInputInvalid(f"message {index} has no content list or string")
    blocks = [b for b in blocks if not _block_is_empty(b)]
    if not blocks:
        raise ModelInputInvalid(f"message {index} ({message.get('role')}) has empty content")
    return blocks


def normalise_messages(messages: Sequence[MessageLike]) -> list[Message]:
    """Validate roles and content, turn string content into blocks, merge consecutive same-role turns."""
    if not messages:
        raise ModelInputInvalid("at least one message is required")
    merged: list[Message] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in _ROLES:
            raise ModelInputInvalid(f"message {index} has role {role!r}; expected 'user' or 'assistant'")
        blocks = _content_blocks(message, index)
        if merged and merged[-1]["role"] == role:
            merged[-1]["content"].extend(blocks)
        else:
            merged.append({"role": role, "content": blocks})
    if merged[0]["role"] != "user":
        raise ModelInputInvalid("the first message must come from the user")
    return merged


def normalise_system(system: str | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """System prompt as Converse system blocks; empty strings dropped."""
    if system is None:
        return []
    if isinstance(system, str):
        return [{"text": system}] if system.strip() else []
    return [dict(b) for b in system if not _block_is_empty(b)]


def _starts_cleanly(message: Message) -> bool:
    """A conversation may only begin with a user turn that answers no earlier toolUse."""
    return message["role"] == "user" and not any("toolResult" in b for b in message["content"])


def drop_oldest(messages: list[Message], count: int) -> list[Message]:
    """Drop ``count`` oldest messages, then any orphaned leading turns; the newest turn always stays."""
    kept = messages[min(count, len(messages) - 1) :]
    while len(kept) > 1 and not _starts_cleanly(kept[0]):
        kept = kept[1:]
    return kept


def message_text(message: Message) -> str:
    """A message as a tokenizer would see it: its text, and tool inputs and results as compact JSON."""
    parts = [
        str(block["text"]) if "text" in block else json.dumps(block, separators=(",", ":"), default=str)
        for block in message["content"]
    ]
    return "\n".join(parts)
