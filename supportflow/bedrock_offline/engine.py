"""Turn a parsed conversation into an answer: a tool call with schema-filled input, or text."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from supportflow.bedrock_offline import grounding
from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.conversation import Conversation, ToolSpec
from supportflow.bedrock_offline.reply import draft_reply, from_tool_result, split_context
from supportflow.bedrock_offline.schema_fill import Facts, SchemaFiller
from supportflow.bedrock_offline.text import detect_language, summarise

_MESSAGE_OVERHEAD = 4  # role markers and separators per message, as chat templates add
_REQUEST_OVERHEAD = 8


@dataclass
class Completion:
    """What the model answered, independent of the wire format."""

    text: str = ""
    tool_name: str | None = None
    tool_input: dict[str, Any] | None = None
    tool_use_id: str = ""
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    response_id: str = ""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def count_input_tokens(brain: Brain, conv: Conversation) -> int:
    """Input-token estimate: e5 sentencepiece counts plus per-message template overhead."""
    total = _REQUEST_OVERHEAD + _MESSAGE_OVERHEAD * len(conv.turns)
    return total + sum(brain.embedder.token_count(t) for t in conv.token_texts())


# --- the engine ---------------------------------------------------------------------------------


class Engine:
    """Deterministic answers computed from the request text."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain
        self.filler = SchemaFiller(brain)

    def complete(self, conv: Conversation, use_bank: bool = True) -> Completion:
        """Answer the conversation; ``use_bank=False`` restricts labels to zero-shot."""
        input_tokens = count_input_tokens(self.brain, conv)
        rid = _digest(conv.model_id, json.dumps(conv.token_texts()), conv.tool_choice)
        tool = self._pick_tool(conv)
        if tool is not None:
            payload = self._grounding_tool(conv, tool)
            if payload is None:
                filled = self.filler.fill(tool.schema, self._facts(conv, use_bank), tool, name_hint=tool.name)
                payload = filled if isinstance(filled, dict) else {"value": filled}
            out = Completion(
                tool_name=tool.name,
                tool_input=payload,
                tool_use_id="tooluse_" + rid[:22],
                stop_reason="tool_use",
                input_tokens=input_tokens,
                response_id=rid,
            )
            out.output_tokens = self.brain.embedder.token_count(json.dumps(payload)) + 10
            return out
        text = self._text_answer(conv, use_bank)
        return self._finish_text(conv, text, input_tokens, rid)

    # --- tools -----------------------------------------------------------------------------------

    def _pick_tool(self, conv: Conversation) -> ToolSpec | None:
        if not conv.tools or conv.tool_choice == "none":
            return None
        if conv.tool_choice == "tool":
            return next(t for t in conv.tools if t.name == conv.tool_name)
        # A tool result in the last turn means the client ran the tool: answer in text to end the loop.
        if conv.last.tool_results:
            return None
        prompt = f"{conv.system}\n{conv.user_text()}".lower()
        named = [t for t in conv.tools if t.name.lower() in prompt]
        if named:
            return named[0]
        if conv.tool_choice == "any" or len(conv.tools) == 1:
            return self._best_tool(conv) if len(conv.tools) > 1 else conv.tools[0]
        return self._best_tool(conv)

    def _grounding_tool(self, conv: Conversation, tool: ToolSpec) -> dict[str, Any] | None:
        # The drafting chain's extraction and self-check are computed, not schema-filled.
        if grounding.is_extraction(tool):
            return grounding.extract(conv)
        if grounding.is_claim_check(tool):
            return grounding.check_claims(self.brain, conv)
        return None

    def _best_tool(self, conv: Conversation) -> ToolSpec:
        labels = [t.name for t in conv.tools]
        descriptions = {t.name: t.description for t in conv.tools}
        # Zero-shot only: tool names are not intents, so the bank must not vote here.
        choice = self.brain.classify(conv.user_text() or conv.system, labels, descriptions, use_bank=False)
        return next(t for t in conv.tools if t.name == choice.label)

    def _facts(self, conv: Conversation, use_bank: bool) -> Facts:
        question, context = split_context(conv.user_text())
        _, system_context = split_context(conv.system)
        text = question or conv.user_text()
        sentiment = self.brain.sentiment(text)
        return Facts(
            text=text,
            context=[*context, *system_context, *conv.documents()],
            sentiment=sentiment,
            urgency=self.brain.urgency(text, sentiment),
            language=detect_language(text),
            use_bank=use_bank,
        )

    # --- text --------------------------------------------------------------------------------------

    def _text_answer(self, conv: Conversation, use_bank: bool) -> str:
        if conv.last.tool_results:
            return from_tool_result(conv)
        if grounding.is_draft_request(conv):
            return grounding.draft(self.brain, conv)
        question, context = split_context(conv.user_text())
        _, system_context = split_context(conv.system)
        wants_summary = re.search(r"\bsummar", f"{conv.system}\n{question}", re.I)
        text = question or conv.user_text()
        if wants_summary:
            body = re.sub(r"^.*?summar\w*[^:\n]*:\s*", "", text, count=1, flags=re.I | re.S) or text
            return summarise(body, 400)
        intent = None
        if self.brain.known_intents():
            intent = self.brain.classify(text, self.brain.known_intents(), use_bank=use_bank).label
        return draft_reply(self.brain, text, [*context, *system_context, *conv.documents()], intent)

    def _finish_text(self, conv: Conversation, text: str, input_tokens: int, rid: str) -> Completion:
        out = Completion(text=text, input_tokens=input_tokens, response_id=rid)
        for stop in conv.stop_sequences:
            at = out.text.find(stop) if stop else -1
            if at >= 0:
                out.text, out.stop_reason, out.stop_sequence = out.text[:at], "stop_sequence", stop
        out.output_tokens = self.brain.embedder.token_count(out.text)
        if conv.max_tokens is not None and out.output_tokens > conv.max_tokens:
            words = out.text.split(" ")
            # Shrink proportionally, then word by word: token counts are not additive over words.
            keep = max(1, int(len(words) * conv.max_tokens / out.output_tokens))
            while keep > 1 and self.brain.embedder.token_count(" ".join(words[:keep])) > conv.max_tokens:
                keep -= 1
            out.text = " ".join(words[:keep])
            out.stop_reason, out.stop_sequence = "max_tokens", None
            out.output_tokens = min(self.brain.embedder.token_count(out.text), conv.max_tokens)
        return out
