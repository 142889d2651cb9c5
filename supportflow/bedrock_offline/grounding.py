"""Grounded answering: a ticket's questions and facts, a reply built from retrieved passages, claim checks.

Three kinds of request are recognised by their shape, not by a caller's name:

- extraction: a tool whose schema has ``questions`` and ``facts``; answered from the ticket text
  (question-like sentences, identifiers, amounts, dates);
- drafting: a text request carrying ``<question>`` blocks with their ``<document>`` passages; the
  reply is the passage sentences closest to each question (extractive, so it never says what the
  passages do not), an agent follow-up for a question without passages, greeting and closing in
  the ticket's language (en, es, fr, de, pt; other languages get English), and no sentence listed
  under ``<unsupported>``;
- self-check: a tool whose schema has ``claims`` items with ``supported``; each non-formulaic
  sentence of the ``<draft>`` is supported when its embedding is close to a passage sentence or its
  content words are mostly found in one, and the best passage's uri is its source.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import numpy as np

from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.conversation import Conversation, ToolSpec
from supportflow.bedrock_offline.extract import amounts, dates, identifiers
from supportflow.bedrock_offline.reply import split_context
from supportflow.bedrock_offline.text import detect_language, sentences

# e5 places unrelated support sentences at ~0.75-0.85 cosine; a restated passage sentence sits above this.
SUPPORT_SIMILARITY = 0.92
# Share of a claim's content words found in one passage sentence for lexical support.
SUPPORT_OVERLAP = 0.6
MAX_QUESTIONS = 4
SENTENCES_PER_QUESTION = 2

_QUESTION = re.compile(r'<question(?:\s+answerable="(yes|no)")?[^>]*>(.*?)</question>', re.S)
_ASK = re.compile(r"<ask>(.*?)</ask>", re.S)
_DOCUMENT = re.compile(r"<document(?P<attrs>\s[^>]*)?>(?P<body>.*?)</document>", re.S)
_URI = re.compile(r'uri="([^"]*)"')
_TICKET = re.compile(r'<ticket(?:\s+language="([^"]*)")?[^>]*>(.*?)</ticket>', re.S)
_DRAFT = re.compile(r"<draft>(.*?)</draft>", re.S)
_UNSUPPORTED = re.compile(r"<unsupported>(.*?)</unsupported>", re.S)
_CLAIM = re.compile(r"<claim>(.*?)</claim>", re.S)
_WORD = re.compile(r"[^\W_]{3,}")
_ASKING = re.compile(
    r"^(how|what|when|where|why|which|who|can|could|would|will|is|are|do|does|did|please|i want|i need|i'd like"
    r"|i would like|cómo|como|qué|que|cuándo|cuando|dónde|onde|puedo|posso|quiero|quero|necesito|preciso|comment"
    r"|quand|où|pourquoi|puis-je|je veux|je voudrais|wie|wann|wo|warum|kann|ich möchte|ich will|bitte|por favor"
    r"|s'il vous plaît)\b",
    re.I,
)

_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello,",
        "thanks": "Thank you for contacting us.",
        "follow_up": "A member of our team will follow up personally on this question: {q}",
        "closing": "Best regards, Customer Support",
    },
    "es": {
        "greeting": "Hola,",
        "thanks": "Gracias por contactarnos.",
        "follow_up": "Un miembro de nuestro equipo le responderá personalmente sobre esta pregunta: {q}",
        "closing": "Saludos cordiales, Atención al Cliente",
    },
    "fr": {
        "greeting": "Bonjour,",
        "thanks": "Merci de nous avoir contactés.",
        "follow_up": "Un membre de notre équipe reviendra vers vous personnellement sur cette question : {q}",
        "closing": "Cordialement, le Service Client",
    },
    "de": {
        "greeting": "Hallo,",
        "thanks": "Vielen Dank für Ihre Nachricht.",
        "follow_up": "Ein Mitglied unseres Teams meldet sich persönlich zu dieser Frage: {q}",
        "closing": "Mit freundlichen Grüßen, Kundenservice",
    },
    "pt": {
        "greeting": "Olá,",
        "thanks": "Obrigado por entrar em contato.",
        "follow_up": "Um membro da nossa equipe responderá pessoalmente a esta pergunta: {q}",
        "closing": "Atenciosamente, Atendimento ao Cliente",
    },
}
_FORMULAIC = re.compile(
    r"^(hello|hi|dear|hola|bonjour|hallo|olá|thank|thanks|gracias|merci|vielen dank|obrigad|best regards|kind"
    r" regards|regards|sincerely|saludos|cordialement|mit freundlichen|atenciosamente|sorry|we apologi[sz]e|"
    r"i am sorry|i understand)\b",
    re.I,
)


def _follow_up_prefixes() -> tuple[str, ...]:
    return tuple(p["follow_up"].split("{q}")[0].strip().lower() for p in _PHRASES.values())


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 3}


def _documents(text: str) -> list[tuple[str, str]]:
    """(uri, text) of each ``<document>`` in ``text``."""
    found = []
    for match in _DOCUMENT.finditer(text):
        uri = _URI.search(match.group("attrs") or "")
        found.append((unescape(uri.group(1)) if uri else "", match.group("body").strip()))
    return found


# --- extraction ------------------------------------------------------------------------------------


def is_extraction(tool: ToolSpec) -> bool:
    """A tool asking for questions and facts."""
    props = tool.schema.get("properties") or {}
    return "questions" in props and "facts" in props


def extract(conv: Conversation) -> dict[str, Any]:
    """The customer's questions (question-like sentences) and facts (identifiers, amounts, dates)."""
    ticket = _TICKET.search(conv.user_text())
    text = ticket.group(2).strip() if ticket else conv.user_text()
    body = re.sub(r"^Subject:[^\n]*\n", "", text).strip() or text
    asked = [s for s in sentences(body) if s.endswith(("?", "\uff1f")) or _ASKING.match(s)]
    questions = list(dict.fromkeys(asked))[:MAX_QUESTIONS] or sentences(body)[:1]
    facts = [{"name": "Order Number", "value": v} for v in identifiers(text)[:2]]
    facts += [{"name": "Amount", "value": f"{v:g}"} for v in amounts(text)[:2]]
    facts += [{"name": "Date", "value": v} for v in dates(text)[:2]]
    return {"questions": questions, "facts": facts}


# --- drafting --------------------------------------------------------------------------------------


def is_draft_request(conv: Conversation) -> bool:
    """A text request that carries questions with their passages."""
    return not conv.tools and bool(_QUESTION.search(conv.user_text()))


def draft(brain: Brain, conv: Conversation) -> str:
    """A reply made of the passage sentences that answer each question, in the ticket's language."""
    text = conv.user_text()
    ticket = _TICKET.search(text)
    language = (ticket.group(1) if ticket and ticket.group(1) else "") or detect_language(
        ticket.group(2) if ticket else text
    )
    phrases = _PHRASES.get(language.split("-")[0].lower(), _PHRASES["en"])
    feedback = _UNSUPPORTED.search(text)
    rejected = {c.strip() for c in _CLAIM.findall(feedback.group(1))} if feedback else set()
    parts = [phrases["greeting"], phrases["thanks"]]
    for match in _QUESTION.finditer(text):
        ask = _ASK.search(match.group(2))
        question = (ask.group(1) if ask else match.group(2)).strip()
        _, blocks = split_context(match.group(2))
        pool = [s for _, body in _documents(match.group(2)) or [("", b) for b in blocks] for s in sentences(body)]
        pool = [s for s in dict.fromkeys(pool) if s not in rejected and s not in parts]
        if match.group(1) == "no" or not pool:
            parts.append(phrases["follow_up"].format(q=question))
            continue
        parts.extend(s for s in brain.rank_sentences(question, pool, top=SENTENCES_PER_QUESTION) if s not in parts)
    parts.append(phrases["closing"])
    return " ".join(parts)


# --- self-check ------------------------------------------------------------------------------------


def is_claim_check(tool: ToolSpec) -> bool:
    """A tool asking, per claim, whether it is supported."""
    claims = (tool.schema.get("properties") or {}).get("claims") or {}
    items = claims.get("items") or {}
    if "$ref" in items:
        name = str(items["$ref"]).rsplit("/", 1)[-1]
        items = (tool.schema.get("$defs") or tool.schema.get("definitions") or {}).get(name, {})
    return "supported" in (items.get("properties") or {})


def _is_claim(sentence: str) -> bool:
    lowered = sentence.lower()
    if _FORMULAIC.match(sentence) or lowered.startswith(_follow_up_prefixes()):
        return False
    return all(sentence != p for phrases in _PHRASES.values() for p in phrases.values())


def check_claims(brain: Brain, conv: Conversation) -> dict[str, Any]:
    """Each claim of the draft with its computed support and the best passage's uri."""
    text = conv.user_text()
    found = _DRAFT.search(text)
    claims = [s for s in sentences(found.group(1) if found else "") if _is_claim(s)]
    evidence = [(uri, s) for uri, body in _documents(text) for s in sentences(body)]
    if not claims:
        return {"claims": []}
    if not evidence:
        return {"claims": [{"claim": c, "supported": False, "source": None} for c in claims]}
    sims = brain.embedder.embed(claims) @ brain.embedder.embed([s for _, s in evidence]).T
    out = []
    for row, claim in enumerate(claims):
        words = _content_words(claim)
        overlaps = [len(words & _content_words(s)) / len(words) if words else 0.0 for _, s in evidence]
        best = int(np.argmax(sims[row]))
        lexical = int(np.argmax(overlaps))
        supported = bool(sims[row, best] >= SUPPORT_SIMILARITY or overlaps[lexical] >= SUPPORT_OVERLAP)
        source = evidence[best if sims[row, best] >= SUPPORT_SIMILARITY else lexical][0]
        out.append({"claim": claim, "supported": supported, "source": source if supported else None})
    return {"claims": out}
