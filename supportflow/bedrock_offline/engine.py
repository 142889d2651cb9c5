"""Turn a parsed conversation into an answer: a tool call with schema-filled input, or text."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supportflow.bedrock_offline.conversation import Conversation, ToolSpec
from supportflow.bedrock_offline.labels import humanise
from supportflow.bedrock_offline.nlp import (
    SENTIMENT_LABELS,
    Brain,
    Classification,
    Sentiment,
    Urgency,
    amounts,
    dates,
    detect_language,
    emails,
    identifiers,
    keywords,
    numbers,
    phones,
    sentences,
    summarise,
    urls,
)

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


@dataclass
class _Facts:
    """Signals computed once per request and reused by every schema property."""

    text: str
    context: list[str]
    sentiment: Sentiment
    urgency: Urgency
    language: str
    use_bank: bool = True
    last_confidence: float = 1.0
    chosen: dict[str, str] = field(default_factory=dict)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def count_input_tokens(brain: Brain, conv: Conversation) -> int:
    """Input-token estimate: e5 sentencepiece counts plus per-message template overhead."""
    total = _REQUEST_OVERHEAD + _MESSAGE_OVERHEAD * len(conv.turns)
    return total + sum(brain.embedder.token_count(t) for t in conv.token_texts())


# --- retrieved context ----------------------------------------------------------------------------

_CONTEXT_BLOCK = re.compile(
    r"<(context|document|documents|knowledge|kb|search_results?|articles?|sources?)[^>]*>(.*?)</\1>", re.S | re.I
)
_CONTEXT_HEADING = re.compile(
    r"^(?:context|knowledge(?: base)?|retrieved (?:context|documents|articles)|relevant articles|sources?)\s*:\s*$",
    re.I | re.M,
)


def split_context(text: str) -> tuple[str, list[str]]:
    """Separate retrieved knowledge (tagged blocks or a 'Context:' section) from the question."""
    found = [m.group(2).strip() for m in _CONTEXT_BLOCK.finditer(text)]
    rest = _CONTEXT_BLOCK.sub(" ", text)
    heading = _CONTEXT_HEADING.search(rest)
    if heading:
        tail = rest[heading.end() :]
        # The section ends at the next "Question:"/"Ticket:"-style heading, if any.
        end = re.search(r"^(?:question|ticket|customer(?: message)?|query|request)\s*:", tail, re.I | re.M)
        section = tail[: end.start()] if end else tail
        found.append(section.strip())
        rest = rest[: heading.start()] + (tail[end.start() :] if end else "")
    return rest.strip(), [f for f in found if f]


# --- the engine -----------------------------------------------------------------------------------


class Engine:
    """Deterministic answers computed from the request text."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain

    def complete(self, conv: Conversation, use_bank: bool = True) -> Completion:
        """Answer the conversation; ``use_bank=False`` restricts labels to zero-shot."""
        input_tokens = count_input_tokens(self.brain, conv)
        rid = _digest(conv.model_id, json.dumps(conv.token_texts()), conv.tool_choice)
        tool = self._pick_tool(conv)
        if tool is not None:
            facts = self._facts(conv, use_bank)
            filled = self.fill(tool.schema, facts, tool, name_hint=tool.name)
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

    def _best_tool(self, conv: Conversation) -> ToolSpec:
        labels = [t.name for t in conv.tools]
        descriptions = {t.name: t.description for t in conv.tools}
        # Zero-shot only: tool names are not intents, so the bank must not vote here.
        choice = self.brain.classify(conv.user_text() or conv.system, labels, descriptions, use_bank=False)
        return next(t for t in conv.tools if t.name == choice.label)

    def _facts(self, conv: Conversation, use_bank: bool) -> _Facts:
        question, context = split_context(conv.user_text())
        _, system_context = split_context(conv.system)
        text = question or conv.user_text()
        sentiment = self.brain.sentiment(text)
        return _Facts(
            text=text,
            context=[*context, *system_context, *conv.documents()],
            sentiment=sentiment,
            urgency=self.brain.urgency(text, sentiment),
            language=detect_language(text),
            use_bank=use_bank,
        )

    def fill(self, schema: dict[str, Any], facts: _Facts, tool: ToolSpec, name_hint: str = "") -> Any:
        """A value valid against ``schema`` computed from the conversation."""
        schema = self._resolve(schema, tool.schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self._enum(name_hint, [v for v in schema["enum"] if v is not None], schema, facts, tool)
        kind = _kind(schema)
        if kind == "object":
            return self._object(schema, facts, tool)
        if kind == "array":
            return self._array(name_hint, schema, facts, tool)
        if kind in ("number", "integer"):
            return self._number(name_hint, schema, facts, integer=kind == "integer")
        return self._boolean(name_hint, facts) if kind == "boolean" else self._string(name_hint, schema, facts)

    def _resolve(self, schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            node: Any = root
            for part in ref[2:].split("/"):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            merged = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
            return self._resolve(merged, root)
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if options:
                usable = [o for o in options if o.get("type") != "null"] or options
                rest = {k: v for k, v in schema.items() if k != key}
                return self._resolve({**usable[0], **rest}, root)
        if schema.get("allOf"):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged.update(self._resolve(part, root))
            return merged
        return schema

    def _object(self, schema: dict[str, Any], facts: _Facts, tool: ToolSpec) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties") or {}
        # Enums first so that "confidence" and "category" can refer to the label just chosen.
        order = sorted(props, key=lambda name: 0 if "enum" in self._resolve(props[name], tool.schema) else 1)
        out: dict[str, Any] = {}
        for name in order:
            out[name] = self.fill(props[name], facts, tool, name_hint=name)
        return {name: out[name] for name in props}

    def _enum(self, name: str, options: list[Any], schema: dict[str, Any], facts: _Facts, tool: ToolSpec) -> Any:
        if not options:
            return None
        if not all(isinstance(o, str) for o in options):
            return options[0]
        lowered = {o.lower(): o for o in options}
        if set(lowered) & set(SENTIMENT_LABELS) and len(set(lowered) & set(SENTIMENT_LABELS)) >= 2:
            return self._map_sentiment(lowered, facts.sentiment.label)
        special = self._special_enum(name, lowered, options, facts)
        if special is not None:
            return special
        descriptions = _label_descriptions(options, f"{schema.get('description', '')}\n{tool.description}")
        # A category paired with an already-chosen intent follows the intent, like an LLM would.
        if re.search(r"categor", name, re.I) and "intent" in facts.chosen:
            category = self.brain.category_of(facts.chosen["intent"])
            if category and category in lowered:
                return lowered[category]
        result: Classification = self.brain.classify(facts.text, options, descriptions, facts.use_bank)
        facts.last_confidence = result.confidence
        facts.chosen[name.lower()] = result.label
        return result.label

    @staticmethod
    def _special_enum(name: str, lowered: dict[str, str], options: list[str], facts: _Facts) -> str | None:
        """Priority and language enums come from dedicated signals, not from label similarity."""
        if re.search(r"prior|urgen|severity|level", name, re.I):
            urgency = _urgency_option(lowered, facts.urgency)
            if urgency is not None:
                return urgency
        if re.search(r"lang|locale", name, re.I):
            return lowered.get(facts.language, options[0])
        return None

    @staticmethod
    def _map_sentiment(lowered: dict[str, str], label: str) -> str:
        fallback = {"very_negative": ["negative"], "positive": ["very_positive"], "neutral": ["mixed"]}
        for key in [label, *fallback.get(label, [])]:
            if key in lowered:
                return lowered[key]
        return next(iter(lowered.values()))

    def _array(self, name: str, schema: dict[str, Any], facts: _Facts, tool: ToolSpec) -> list[Any]:
        items = self._resolve(schema.get("items") or {"type": "string"}, tool.schema)
        low = name.lower()
        values: list[Any]
        if "enum" in items:
            options = [o for o in items["enum"] if isinstance(o, str)]
            result = self.brain.classify(facts.text, options, use_bank=facts.use_bank) if options else None
            values = [o for o, p in (result.scores.items() if result else []) if p >= 0.2][:3]
            if result and not values:
                values = [result.label]
        elif items.get("type", "string") == "string":
            values = self._string_list(low, facts)
        elif items.get("type") == "object":
            values = [self._object(items, facts, tool)]
        else:
            values = [self.fill(items, facts, tool, name_hint=name)]
        min_items = int(schema.get("minItems", 0))
        if len(values) < min_items:
            filler = self.fill(items, facts, tool, name_hint=name)
            values.extend([filler] * (min_items - len(values)))
        if "maxItems" in schema:
            values = values[: int(schema["maxItems"])]
        return values

    def _string_list(self, low: str, facts: _Facts) -> list[Any]:
        if "email" in low:
            return emails(facts.text)
        if re.search(r"cue|reason|signal|flag", low):
            return list(dict.fromkeys([*facts.urgency.cues, *facts.sentiment.cues]))
        if re.search(r"\bid|ids$|order|reference", low):
            return identifiers(facts.text)
        if re.search(r"source|citation|doc", low):
            return [summarise(c, 80) for c in facts.context][:3]
        if re.search(r"sentence|quote|highlight", low):
            return sentences(facts.text)[:3]
        return keywords(facts.text)

    def _number(self, name: str, schema: dict[str, Any], facts: _Facts, integer: bool) -> float | int:
        low = name.lower()
        value: float
        if re.search(r"sentiment|score", low) and float(schema.get("minimum", 0)) < 0:
            value = facts.sentiment.score
        elif re.search(r"confidence|probab|certainty", low):
            value = facts.last_confidence
        elif re.search(r"urgen|priority|severity", low):
            value = facts.urgency.score
        elif re.search(r"sentiment|score", low):
            value = (facts.sentiment.score + 1.0) / 2.0
        elif re.search(r"amount|price|total|cost|refund|sum", low):
            value = next(iter(amounts(facts.text)), next(iter(numbers(facts.text)), 0.0))
        else:
            value = next(iter(numbers(facts.text)), 0.0)
        low_bound, high_bound = schema.get("minimum"), schema.get("maximum")
        if isinstance(low_bound, int | float):
            value = max(value, float(low_bound))
        if isinstance(high_bound, int | float):
            value = min(value, float(high_bound))
        if integer:
            return round(value)
        return round(value, 4)

    def _boolean(self, name: str, facts: _Facts) -> bool:
        low = name.lower()
        if re.search(r"escalat|human|urgent|priority|critical", low):
            return facts.urgency.level == "high" or facts.sentiment.label == "very_negative"
        if re.search(r"negative|complain|angry|upset", low):
            return facts.sentiment.score <= -0.2
        if re.search(r"positive|happy|satisf", low):
            return facts.sentiment.score >= 0.3
        if re.search(r"question", low):
            return "?" in facts.text
        words = [w for w in re.split(r"[_\W]+", low) if len(w) > 3 and w not in {"needs", "requires", "contains"}]
        text = facts.text.lower()
        return any(w.rstrip("s") in text for w in words)

    def _string(self, name: str, schema: dict[str, Any], facts: _Facts) -> str:
        low = name.lower()
        value = self._string_value(low, schema, facts)
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not re.search(pattern, value):
            candidates = [*identifiers(facts.text), *emails(facts.text), *re.findall(r"\S+", facts.text)]
            value = next((c for c in candidates if re.search(pattern, c)), value)
        max_len = schema.get("maxLength")
        if isinstance(max_len, int) and len(value) > max_len:
            value = value[:max_len]
        min_len = int(schema.get("minLength", 0))
        if len(value) < min_len:
            value = (value + " " + summarise(facts.text, 400)).strip()[: max(min_len, len(value))]
            value = value.ljust(min_len, ".")
        return value

    def _string_value(self, low: str, schema: dict[str, Any], facts: _Facts) -> str:
        fmt = schema.get("format")
        if fmt in ("date", "date-time"):
            found = next(iter(dates(facts.text)), "1970-01-01T00:00:00Z")
            return found[:10] if fmt == "date" else (found if "T" in found else f"{found[:10]}T00:00:00Z")
        if fmt in _FORMAT_FIELDS:
            low = _FORMAT_FIELDS[fmt]
        for pattern, producer in _STRING_FIELDS:
            if pattern.search(low):
                return producer(self, facts)
        return summarise(facts.text, int(schema.get("maxLength", 240)))

    def _category(self, facts: _Facts) -> str:
        return self.brain.category_of(facts.chosen.get("intent") or self._intent(facts)) or "general"

    def _reply(self, facts: _Facts) -> str:
        return draft_reply(self.brain, facts.text, facts.context, facts.chosen.get("intent"))

    def _intent(self, facts: _Facts) -> str:
        known = self.brain.known_intents()
        if not known:
            return keywords(facts.text, 1)[0] if keywords(facts.text, 1) else "other"
        result = self.brain.classify(facts.text, known, use_bank=facts.use_bank)
        facts.last_confidence = result.confidence
        facts.chosen["intent"] = result.label
        return result.label

    # --- text --------------------------------------------------------------------------------------

    def _text_answer(self, conv: Conversation, use_bank: bool) -> str:
        if conv.last.tool_results:
            return _from_tool_result(conv)
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


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if not isinstance(kind, str):
        kind = "object" if "properties" in schema else "string"
    return kind


_FORMAT_FIELDS = {"email": "email", "uri": "url"}
# (property-name pattern, producer) in priority order: the first match decides the value.
_STRING_FIELDS: list[tuple[re.Pattern[str], Callable[[Engine, _Facts], str]]] = [
    (re.compile(r"email"), lambda _e, f: next(iter(emails(f.text)), "")),
    (re.compile(r"url|link"), lambda _e, f: next(iter(urls(f.text)), "")),
    (re.compile(r"phone"), lambda _e, f: next(iter(phones(f.text)), "")),
    (re.compile(r"lang|locale"), lambda _e, f: f.language),
    (
        re.compile(r"\bid$|_id$|order|reference|ticket|tracking|number"),
        lambda _e, f: next(iter(identifiers(f.text)), ""),
    ),
    (re.compile(r"sentiment"), lambda _e, f: f.sentiment.label),
    (re.compile(r"prior|urgen"), lambda _e, f: f.urgency.level),
    (re.compile(r"intent"), lambda e, f: e._intent(f)),
    (re.compile(r"categor"), lambda e, f: e._category(f)),
    (re.compile(r"reply|draft|response|answer|message|body"), lambda e, f: e._reply(f)),
    (re.compile(r"reason|rational|explan|justif"), lambda _e, f: _reason(f)),
    (re.compile(r"title|subject|headline|topic"), lambda _e, f: summarise(f.text, 80)),
]


def _urgency_option(lowered: dict[str, str], urgency: Urgency) -> str | None:
    ladders = {
        "high": ["urgent", "critical", "high", "p1"],
        "normal": ["normal", "medium", "moderate", "p2"],
        "low": ["low", "minor", "p3"],
    }
    if not any(key in lowered for ladder in ladders.values() for key in ladder):
        return None
    order = [urgency.level, "normal", "high", "low"]
    for level in order:
        for key in ladders[level]:
            if key in lowered:
                return lowered[key]
    return None


def _label_descriptions(options: list[str], text: str) -> dict[str, str]:
    """Descriptions like ``refund: money back`` or ``- refund - money back`` found near the labels."""
    out: dict[str, str] = {}
    for option in options:
        match = re.search(rf"(?<![\w]){re.escape(option)}\s*(?:[:=]|-|\u2013|\u2014|\()\s*([^\n;|]+)", text, re.I)
        if match:
            out[option] = match.group(1).strip(" )")
    return out


def _reason(facts: _Facts) -> str:
    parts = []
    if facts.chosen:
        parts.append(", ".join(f"{k}={v}" for k, v in facts.chosen.items()))
    parts.append(f"sentiment {facts.sentiment.label} ({facts.sentiment.score:+.2f})")
    cues = list(dict.fromkeys([*facts.urgency.cues, *facts.sentiment.cues]))
    if cues:
        parts.append("cues: " + ", ".join(cues[:5]))
    return "; ".join(parts) + f'. Customer wrote: "{summarise(facts.text, 120)}"'


def _from_tool_result(conv: Conversation) -> str:
    result = conv.last.tool_results[-1].strip()
    try:
        data = json.loads(result)
    except ValueError:
        data = None
    if isinstance(data, dict):
        detail = "; ".join(f"{humanise(str(k))}: {v}" for k, v in list(data.items())[:8])
    else:
        detail = summarise(result, 300)
    return f"Based on the tool result, {detail}." if detail else "The tool returned no data."


_NEXT_STEPS: dict[str, str] = {
    "refund": "I have checked your refund request and will keep you updated on its status.",
    "order": "I have looked into your order and will make sure it is handled.",
    "delivery": "I have checked the delivery details and will follow up on the shipment.",
    "shipping_address": "I can update the shipping address for you once you confirm the new details.",
    "account": "I can help you with your account; please confirm the email address on file.",
    "invoice": "I will send you the invoice details you asked for.",
    "payment": "I have checked the payment details and will help you resolve this.",
    "cancellation_fee": "I have checked the cancellation fee terms for you.",
    "contact": "I am connecting you with a member of our team.",
    "feedback": "Thank you for your feedback; I have passed it on to the team.",
    "newsletter": "I have updated your newsletter preferences.",
}


def draft_reply(brain: Brain, text: str, context: list[str], intent: str | None) -> str:
    """A templated, extractive reply: acknowledgement, best-matching knowledge, next step."""
    sentiment = brain.sentiment(text)
    opening = "Hello."
    if sentiment.label in ("very_negative", "negative"):
        ack = "I am sorry for the trouble, and thank you for your patience."
    elif sentiment.label == "positive":
        ack = "Thank you for your kind message."
    else:
        ack = "Thank you for contacting us."
    topic = f" about {humanise(intent)}" if intent else ""
    ids = identifiers(text)
    ref = f" (reference {ids[0]})" if ids else ""
    pool = [s for block in context for s in sentences(block)][:60]
    knowledge = " ".join(brain.rank_sentences(text, pool, top=2)) if pool else ""
    category = brain.category_of(intent) if intent else None
    step = _NEXT_STEPS.get(category or "", "I will look into this and get back to you shortly.")
    parts = [
        opening,
        f"{ack} I understand your request{topic}{ref}.",
        knowledge,
        step,
        "Best regards, Customer Support",
    ]
    return " ".join(p for p in parts if p)
