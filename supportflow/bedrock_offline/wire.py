"""Wire encoding: bedrock-runtime JSON bodies, Anthropic messages and event-stream frames."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from supportflow.bedrock_offline import eventstream
from supportflow.bedrock_offline.conversation import Conversation, validation
from supportflow.bedrock_offline.engine import Completion
from supportflow.bedrock_offline.faults import STREAM_FAULTS, Fault
from supportflow.bedrock_offline.routing import Response

_STREAM_CHUNK_WORDS = 3
_JSON_CHUNK_CHARS = 24


def json_response(body: dict[str, Any]) -> Response:
    """A JSON response with the given body."""
    return Response(headers={"Content-Type": "application/json"}, body=json.dumps(body).encode())


def invoke_body(raw: bytes) -> dict[str, Any]:
    """An InvokeModel body as a JSON object, or InvokeModel's validation error."""
    try:
        data = json.loads(raw or b"")
    except ValueError as exc:
        raise validation("Malformed input request, please reformat your input and try again.") from exc
    if not isinstance(data, dict):
        raise validation(
            "Malformed input request: #: expected type: JSONObject, please reformat your input and try again."
        )
    return data


def usage(result: Completion) -> dict[str, int]:
    """The Converse ``usage`` block."""
    return {
        "inputTokens": result.input_tokens,
        "outputTokens": result.output_tokens,
        "totalTokens": result.input_tokens + result.output_tokens,
    }


def converse_block(result: Completion) -> dict[str, Any]:
    """The Converse content block: a ``toolUse`` or a ``text``."""
    if result.tool_name is not None:
        return {"toolUse": {"toolUseId": result.tool_use_id, "name": result.tool_name, "input": result.tool_input}}
    return {"text": result.text}


def anthropic_message(result: Completion, conv: Conversation) -> dict[str, Any]:
    """The Anthropic messages-API response body."""
    if result.tool_name is not None:
        content: list[dict[str, Any]] = [
            {
                "type": "tool_use",
                "id": "toolu_bdrk_" + result.response_id[:24],
                "name": result.tool_name,
                "input": result.tool_input,
            }
        ]
    else:
        content = [{"type": "text", "text": result.text}]
    return {
        "id": "msg_bdrk_" + result.response_id[:24],
        "type": "message",
        "role": "assistant",
        "model": conv.model_id.split("/")[-1].removeprefix("anthropic.").split(":")[0],
        "content": content,
        "stop_reason": result.stop_reason,
        "stop_sequence": result.stop_sequence,
        "usage": {"input_tokens": result.input_tokens, "output_tokens": result.output_tokens},
    }


def split_text(text: str) -> list[str]:
    """A few words per delta, keeping the separators so the pieces join back to the text."""
    words = re.findall(r"\S+\s*|\s+", text)
    pieces = ["".join(words[i : i + _STREAM_CHUNK_WORDS]) for i in range(0, len(words), _STREAM_CHUNK_WORDS)]
    return pieces or [""]


def split_json(data: dict[str, Any]) -> list[str]:
    """The tool input as JSON, cut into small deltas that join back to it."""
    raw = json.dumps(data)
    return [raw[i : i + _JSON_CHUNK_CHARS] for i in range(0, len(raw), _JSON_CHUNK_CHARS)] or ["{}"]


def frames(events: Iterable[tuple[str, dict[str, Any]]], fault: Fault) -> Iterator[bytes]:
    """Encode events lazily; an injected stream fault replaces the rest after N deltas."""
    fault_kind, after = fault.stream, fault.stream_after
    deltas = 0
    for event_type, payload in events:
        is_delta = event_type == "contentBlockDelta" or (
            event_type == "chunk" and b"content_block_delta" in base64.b64decode(payload["bytes"])
        )
        if fault_kind and is_delta and deltas >= after:
            exception_type, message = STREAM_FAULTS[fault_kind]
            yield eventstream.exception_frame(exception_type, message)
            return
        deltas += int(is_delta)
        yield eventstream.event_frame(event_type, payload)
    if fault_kind:
        # Fewer deltas than the fault wanted: fail before the end rather than silently succeed.
        exception_type, message = STREAM_FAULTS[fault_kind]
        yield eventstream.exception_frame(exception_type, message)
