"""Escalation rules: data (a JSON file the template points at), evaluated on a ticket's joined facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import Priority, SentimentLabel
from workers.ticket_record.record import Classification, Escalation, Sentiment, TicketFacts, Tier

# Relative rule paths are read from the code root: the project locally, /var/task in Lambda.
CODE_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULES_FILE = "workers/ticket_record/escalation_rules.json"


class Condition(BaseModel):
    """What must all hold for a rule to fire; an omitted test always holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: list[Priority] | None = None
    sentiment: list[SentimentLabel] | None = None
    max_sentiment_score: float | None = Field(default=None, ge=-1.0, le=1.0)
    customer_tier: list[Tier] | None = None
    needs_review: bool | None = None
    intents: list[str] | None = None
    categories: list[str] | None = None
    keywords: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Any of these words or phrases in the cues, key issues, summary, priority reasons or text.",
    )

    @cached_property
    def keyword_pattern(self) -> re.Pattern[str] | None:
        """The keywords as one case-insensitive, word-bounded pattern."""
        if not self.keywords:
            return None
        return re.compile(r"(?i)\b(?:" + "|".join(re.escape(k) for k in self.keywords) + r")\b")


class Rule(BaseModel):
    """A named reason to escalate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1, max_length=200)
    when: Condition


class EscalationRules(BaseModel):
    """Every rule; a ticket escalates when any fires, with every fired reason, in file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(min_length=1)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_RULES_FILE) -> EscalationRules:
        """Read and validate a rules file; a bad file fails at cold start, not mid-batch."""
        resolved = Path(path)
        if not resolved.is_absolute():
            resolved = CODE_ROOT / resolved
        return cls.model_validate_json(resolved.read_text(encoding="utf-8"))

    def decide(self, ticket: TicketFacts, classification: Classification, sentiment: Sentiment) -> Escalation:
        """Evaluate every rule on the joined facts."""
        reasons = [rule.reason for rule in self.rules if _holds(rule.when, ticket, classification, sentiment)]
        return Escalation(needs_escalation=bool(reasons), reasons=reasons)


def _any_in(allowed: Iterable[str] | None, value: str) -> bool:
    return allowed is None or value in allowed


def _holds(
    condition: Condition,
    ticket: TicketFacts,
    classification: Classification,
    sentiment: Sentiment,
) -> bool:
    checks = (
        _any_in(condition.priority, ticket.priority),
        _any_in(condition.sentiment, sentiment.label),
        condition.max_sentiment_score is None or sentiment.score <= condition.max_sentiment_score,
        _any_in(condition.customer_tier, ticket.customer_tier),
        condition.needs_review is None or classification.needs_review == condition.needs_review,
        _any_in(condition.intents, classification.intent),
        _any_in(condition.categories, classification.category),
    )
    if not all(checks):
        return False
    pattern = condition.keyword_pattern
    if pattern is None:
        return True
    texts = (
        *sentiment.urgency_cues,
        *classification.key_issues,
        classification.summary,
        *ticket.priority_reasons,
        ticket.subject,
        ticket.body,
    )
    return any(pattern.search(text) for text in texts)
