"""Tool input from a JSON schema: every property filled from signals computed once per request."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.classify import Classification
from supportflow.bedrock_offline.conversation import ToolSpec
from supportflow.bedrock_offline.extract import amounts, dates, emails, identifiers, numbers, phones, urls
from supportflow.bedrock_offline.reply import draft_reply
from supportflow.bedrock_offline.sentiment import SENTIMENT_LABELS, Sentiment, Urgency
from supportflow.bedrock_offline.text import keywords, sentences, summarise


@dataclass
class Facts:
    """Signals computed once per request and reused by every schema property."""

    text: str
    context: list[str]
    sentiment: Sentiment
    urgency: Urgency
    language: str
    use_bank: bool = True
    last_confidence: float = 1.0
    chosen: dict[str, str] = field(default_factory=dict)


class SchemaFiller:
    """Fills a tool's input schema from the request's facts, like an LLM would, deterministically."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain

    def fill(self, schema: dict[str, Any], facts: Facts, tool: ToolSpec, name_hint: str = "") -> Any:
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

    def _object(self, schema: dict[str, Any], facts: Facts, tool: ToolSpec) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties") or {}
        # Enums first so that "confidence" and "category" can refer to the label just chosen.
        order = sorted(props, key=lambda name: 0 if "enum" in self._resolve(props[name], tool.schema) else 1)
        out: dict[str, Any] = {}
        for name in order:
            out[name] = self.fill(props[name], facts, tool, name_hint=name)
        return {name: out[name] for name in props}

    def _enum(self, name: str, options: list[Any], schema: dict[str, Any], facts: Facts, tool: ToolSpec) -> Any:
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
    def _special_enum(name: str, lowered: dict[str, str], options: list[str], facts: Facts) -> str | None:
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

    def _array(self, name: str, schema: dict[str, Any], facts: Facts, tool: ToolSpec) -> list[Any]:
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

    def _string_list(self, low: str, facts: Facts) -> list[Any]:
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

    def _number(self, name: str, schema: dict[str, Any], facts: Facts, integer: bool) -> float | int:
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

    def _boolean(self, name: str, facts: Facts) -> bool:
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

    def _string(self, name: str, schema: dict[str, Any], facts: Facts) -> str:
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

    def _string_value(self, low: str, schema: dict[str, Any], facts: Facts) -> str:
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

    def _category(self, facts: Facts) -> str:
        return self.brain.category_of(facts.chosen.get("intent") or self._intent(facts)) or "general"

    def _reply(self, facts: Facts) -> str:
        return draft_reply(self.brain, facts.text, facts.context, facts.chosen.get("intent"))

    def _intent(self, facts: Facts) -> str:
        known = self.brain.known_intents()
        if not known:
            return keywords(facts.text, 1)[0] if keywords(facts.text, 1) else "other"
        result = self.brain.classify(facts.text, known, use_bank=facts.use_bank)
        facts.last_confidence = result.confidence
        facts.chosen["intent"] = result.label
        return result.label


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if not isinstance(kind, str):
        kind = "object" if "properties" in schema else "string"
    return kind


_FORMAT_FIELDS = {"email": "email", "uri": "url"}
# (property-name pattern, producer) in priority order: the first match decides the value.
_STRING_FIELDS: list[tuple[re.Pattern[str], Callable[[SchemaFiller, Facts], str]]] = [
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


def _reason(facts: Facts) -> str:
    parts = []
    if facts.chosen:
        parts.append(", ".join(f"{k}={v}" for k, v in facts.chosen.items()))
    parts.append(f"sentiment {facts.sentiment.label} ({facts.sentiment.score:+.2f})")
    cues = list(dict.fromkeys([*facts.urgency.cues, *facts.sentiment.cues]))
    if cues:
        parts.append("cues: " + ", ".join(cues[:5]))
    return "; ".join(parts) + f'. Customer wrote: "{summarise(facts.text, 120)}"'
