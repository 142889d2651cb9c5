"""Escalation rules: the shipped file's four reasons, and bad files failing at load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.events import SentimentAnalyzed, TicketAccepted, TicketClassified
from tests.unit.ticket_record.samples import bus_event
from workers.ticket_record.record import Classification, Sentiment, TicketFacts
from workers.ticket_record.rules import EscalationRules

RULES = EscalationRules.load()


def decide(accepted: dict[str, Any], classified: dict[str, Any], sentiment: dict[str, Any]) -> list[str]:
    """The reasons the shipped rules give for the samples with these overrides."""
    ticket = TicketAccepted.from_detail(bus_event("TicketAccepted", **accepted).detail)
    label = TicketClassified.from_detail(bus_event("TicketClassified", **classified).detail)
    feeling = SentimentAnalyzed.from_detail(bus_event("SentimentAnalyzed", **sentiment).detail)
    decision = RULES.decide(
        TicketFacts.model_validate(ticket.model_dump()),
        Classification.model_validate(label.model_dump()),
        Sentiment.model_validate(feeling.model_dump()),
    )
    assert decision.needs_escalation == bool(decision.reasons)
    return decision.reasons


CALM = {"label": "neutral", "score": 0.0, "urgency_cues": []}
STANDARD = {"customer_tier": "standard", "priority": "normal", "subject": "Order question", "body": "Where is it?"}
PLAIN = {"key_issues": [], "summary": "Asks where the order is.", "needs_review": False}


def test_a_calm_standard_ticket_does_not_escalate() -> None:
    # Given a standard customer, normal priority, neutral, confidently classified
    # Then no rule fires
    assert decide(STANDARD, PLAIN, CALM) == []


def test_high_priority_with_very_negative_sentiment_escalates() -> None:
    reasons = decide({**STANDARD, "priority": "high"}, PLAIN, {**CALM, "label": "very_negative", "score": -0.9})
    assert reasons == ["high priority with very negative sentiment"]
    # But very negative at normal priority from a standard customer does not
    assert decide(STANDARD, PLAIN, {**CALM, "label": "very_negative", "score": -0.9}) == []


@pytest.mark.parametrize(
    ("accepted", "classified", "sentiment"),
    [
        ({**STANDARD, "body": "My lawyer will hear about this."}, PLAIN, CALM),
        (STANDARD, {**PLAIN, "key_issues": ["threatens legal action"]}, CALM),
        (STANDARD, PLAIN, {**CALM, "urgency_cues": ["going to court"]}),
        ({**STANDARD, "priority_reasons": ["legal threat"]}, PLAIN, CALM),
    ],
)
def test_a_legal_threat_escalates_wherever_it_shows(
    accepted: dict[str, Any], classified: dict[str, Any], sentiment: dict[str, Any]
) -> None:
    assert decide(accepted, classified, sentiment) == ["legal threat"]


def test_legal_words_match_whole_words_only() -> None:
    # "issue" contains no "sue"; "courtesy" is not "court"
    assert decide({**STANDARD, "body": "An issue with the courtesy call"}, PLAIN, CALM) == []


@pytest.mark.parametrize("tier", ["premium", "enterprise"])
def test_an_unhappy_key_customer_escalates(tier: str) -> None:
    unhappy = {**CALM, "label": "negative", "score": -0.4}
    assert decide({**STANDARD, "customer_tier": tier}, PLAIN, unhappy) == ["premium or enterprise customer unhappy"]
    assert decide({**STANDARD, "customer_tier": tier}, PLAIN, CALM) == []
    assert decide(STANDARD, PLAIN, unhappy) == []


def test_a_review_flag_escalates_and_reasons_keep_file_order() -> None:
    reasons = decide(
        {**STANDARD, "customer_tier": "enterprise", "priority": "high", "body": "I will sue."},
        {**PLAIN, "needs_review": True},
        {**CALM, "label": "very_negative", "score": -1.0},
    )
    assert reasons == [
        "high priority with very negative sentiment",
        "legal threat",
        "premium or enterprise customer unhappy",
        "classification flagged for review",
    ]


def test_a_rules_file_with_a_typo_fails_at_load(tmp_path: Path) -> None:
    # Given a rule with a misspelt condition
    bad = tmp_path / "rules.json"
    bad.write_text('{"rules": [{"reason": "x", "when": {"sentiments": ["negative"]}}]}', encoding="utf-8")
    # Then loading fails loudly instead of never firing
    with pytest.raises(ValidationError):
        EscalationRules.load(bad)


def test_rules_are_data_a_new_rule_fires_without_code(tmp_path: Path) -> None:
    custom = tmp_path / "rules.json"
    custom.write_text(
        '{"rules": [{"reason": "refunds go to a human", "when": {"intents": ["get_refund"]}}]}', encoding="utf-8"
    )
    rules = EscalationRules.load(custom)
    ticket = TicketFacts.model_validate(TicketAccepted.from_detail(bus_event("TicketAccepted").detail).model_dump())
    sentiment = SentimentAnalyzed.from_detail(bus_event("SentimentAnalyzed").detail)
    feeling = Sentiment.model_validate(sentiment.model_dump())
    refund = TicketClassified.from_detail(bus_event("TicketClassified", intent="get_refund").detail)
    assert rules.decide(ticket, Classification.model_validate(refund.model_dump()), feeling).reasons == [
        "refunds go to a human"
    ]
