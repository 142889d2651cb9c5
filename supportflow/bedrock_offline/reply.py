"""Replies: retrieved context separated from the question, templated extractive answers, tool-result text."""

from __future__ import annotations

import json
import re

from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.conversation import Conversation
from supportflow.bedrock_offline.extract import identifiers
from supportflow.bedrock_offline.labels import humanise
from supportflow.bedrock_offline.text import sentences, summarise

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


def from_tool_result(conv: Conversation) -> str:
    """Text built from the last tool result, so a client's tool loop ends."""
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
