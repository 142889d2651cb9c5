"""Settling a ticket's priority: the upstream's when it gave one, derived from the content when not."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.events import Priority

# Signals are weighted phrases, matched case-insensitively on word boundaries. They cover the
# general shapes of urgency in support text (outages, money taken, security, legal, repeated
# contact, deadlines), not the wording of any one data set; a few common non-English cues too.
_HIGH_SIGNALS: dict[str, tuple[str, ...]] = {
    "explicit urgency": (
        r"urgent(?:ly)?",
        r"asap",
        r"emergency",
        r"immediately",
        r"right now",
        r"as soon as possible",
        r"critical",
        r"urgente",
        r"dringend",
        r"sofort",
        r"imm[ée]diatement",
    ),
    "service down": (
        r"(?:is|are|went|been|goes) down",
        r"outage",
        r"not working at all",
        r"stopped working",
        r"can(?:no|')t (?:log ?in|sign in|access)",
        r"locked out",
        r"production",
        r"data loss",
    ),
    "money at risk": (
        r"charged twice",
        r"double[- ]charged",
        r"duplicate (?:charge|payment)",
        r"unauthori[sz]ed (?:charge|payment|transaction)",
        r"fraud(?:ulent)?",
        r"chargeback",
        r"stolen",
        r"money (?:was )?(?:taken|gone|missing)",
    ),
    "security": (r"hacked", r"compromised", r"breach", r"phishing", r"identity theft"),
    "legal threat": (r"lawyer", r"attorney", r"legal action", r"sue", r"court", r"regulator", r"ombudsman"),
    "repeated contact": (
        r"(?:third|3rd|fourth|4th|fifth|several|multiple|many) times?",
        r"still (?:not|no|haven't|hasn't|waiting)",
        r"again and again",
        r"no one (?:has )?(?:replied|answered|responded)",
        r"nobody (?:has )?(?:replied|answered|responded)",
    ),
    "strong dissatisfaction": (
        r"unacceptable",
        r"furious",
        r"outrageous",
        r"disgust(?:ed|ing)",
        r"worst",
        r"ridiculous",
        r"scam",
    ),
}
_LOW_SIGNALS: dict[str, tuple[str, ...]] = {
    "no rush": (
        r"no rush",
        r"no hurry",
        r"whenever you (?:can|get a chance)",
        r"when you get a chance",
        r"not urgent",
        r"just (?:curious|wondering)",
    ),
    "information request": (
        r"newsletter",
        r"unsubscribe",
        r"subscribe",
        r"feedback",
        r"suggestion",
        r"feature request",
        r"how (?:do|can) i",
        r"what (?:is|are) (?:your|the)",
        r"opening hours",
        r"do you (?:have|offer|ship)",
    ),
    "gratitude": (r"thank you so much", r"thanks a lot", r"great service", r"love (?:your|the)"),
}
_HIGH_WEIGHTS = {"explicit urgency": 2, "service down": 2, "money at risk": 2, "security": 3, "legal threat": 3}
_VIP_TIERS = frozenset({"premium", "enterprise"})


def _compile(signals: dict[str, tuple[str, ...]]) -> dict[str, re.Pattern[str]]:
    return {name: re.compile(r"(?i)\b(?:" + "|".join(phrases) + r")\b") for name, phrases in signals.items()}


_HIGH = _compile(_HIGH_SIGNALS)
_LOW = _compile(_LOW_SIGNALS)


@dataclass(frozen=True)
class PriorityDecision:
    """The settled priority, where it came from, and the signals behind it."""

    priority: Priority
    source: str
    reasons: tuple[str, ...]


def derive_priority(text: str, customer_tier: str) -> PriorityDecision:
    """Score urgency signals in the text (and the customer's tier) into high / normal / low."""
    reasons: list[str] = []
    score = 0
    for name, pattern in _HIGH.items():
        if pattern.search(text):
            score += _HIGH_WEIGHTS.get(name, 1)
            reasons.append(name)
    # Shouting is a signal too, but only over a meaningful stretch of text.
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        score += 1
        reasons.append("shouting")
    if text.count("!") >= 3:
        score += 1
        reasons.append("exclamations")
    for name, pattern in _LOW.items():
        if pattern.search(text):
            score -= 1
            reasons.append(name)
    if customer_tier in _VIP_TIERS:
        score += 1
        reasons.append(f"{customer_tier} customer")

    priority: Priority
    if score >= 2:
        priority = "high"
    elif score <= -1:
        priority = "low"
    else:
        priority = "normal"
    return PriorityDecision(priority=priority, source="derived", reasons=tuple(reasons))


def settle_priority(upstream: Priority | None, text: str, customer_tier: str) -> PriorityDecision:
    """The upstream's priority wins when given; otherwise derive one from the content."""
    if upstream is not None:
        return PriorityDecision(priority=upstream, source="upstream", reasons=(f"upstream priority {upstream!r}",))
    return derive_priority(text, customer_tier)
