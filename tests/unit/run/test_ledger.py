"""The run report's arithmetic over hand-made observations: ends, duplicates, latencies, usage."""

from __future__ import annotations

from typing import Any

from supportflow.local.run.ledger import Ledger, Route, duplicates, stage_latency_ms, ticket_done, ticket_end, usage

ALL_STAGES = {"intake", "classify", "sentiment", "record", "crm", "notify"}
ROUTES = [Route("TicketAnalyzed", "agents", {"priority": ["high"]}), Route("TicketRejected", "ops")]


def _at(second: float) -> str:
    return f"2026-11-25T10:00:{second:06.3f}+00:00"


def _full_flow(ledger: Ledger, ticket: str, *, priority: str = "high") -> None:
    """Every event of one accepted ticket, a second apart."""
    common: dict[str, Any] = {"correlation_id": ticket, "ticket_id": ticket}
    ledger.add_event("TicketSubmitted", f"{ticket}-s", {**common, "occurred_at": _at(0)})
    ledger.add_event("TicketAccepted", f"{ticket}-a", {**common, "occurred_at": _at(1), "priority": priority})
    ledger.add_event(
        "TicketClassified",
        f"{ticket}-c",
        {
            **common,
            "occurred_at": _at(3),
            "intent": "get_refund",
            "usage": {"input_tokens": 100, "output_tokens": 20, "estimated_cost_usd": 0.001},
        },
    )
    ledger.add_event(
        "SentimentAnalyzed",
        f"{ticket}-m",
        {
            "correlation_id": ticket,
            "subject_id": ticket,
            "subject_kind": "ticket",
            "occurred_at": _at(2),
            "label": "negative",
            "usage": {"input_tokens": 50, "output_tokens": 5, "estimated_cost_usd": 0.0005},
        },
    )
    ledger.add_event(
        "TicketAnalyzed",
        f"{ticket}-z",
        {**common, "occurred_at": _at(4), "priority": priority, "needs_escalation": False},
    )
    ledger.add_event(
        "CrmRecordUpdated", f"{ticket}-r", {**common, "occurred_at": _at(6), "about_event_id": f"{ticket}-z"}
    )
    if priority == "high":
        ledger.add_event(
            "NotificationSent",
            f"{ticket}-n",
            {"correlation_id": ticket, "occurred_at": _at(5), "audience": "agents", "about_event_id": f"{ticket}-z"},
        )


def test_a_clean_flow_is_done_and_has_no_duplicates() -> None:
    # Given one ticket's whole flow
    ledger = Ledger(expected={"T-1": "accepted"})
    _full_flow(ledger, "T-1")
    # Then it has reached its end with every stage deployed, and nothing was done twice
    assert ticket_done(ledger, "T-1", ALL_STAGES, ROUTES)
    assert duplicates(ledger) == []


def test_the_same_event_delivered_again_is_not_a_duplicate() -> None:
    # Given a flow where every event arrived twice with the same event id (redelivery)
    ledger = Ledger(expected={"T-1": "accepted"})
    _full_flow(ledger, "T-1")
    _full_flow(ledger, "T-1")
    # Then no effect is counted twice
    assert duplicates(ledger) == []


def test_a_second_crm_update_or_notification_for_one_event_is_a_duplicate() -> None:
    # Given a flow, then a second CRM update and a second agents notification about the same TicketAnalyzed
    ledger = Ledger(expected={"T-1": "accepted"})
    _full_flow(ledger, "T-1")
    ledger.add_event("CrmRecordUpdated", "other-r", {"ticket_id": "T-1", "about_event_id": "T-1-z"})
    ledger.add_event(
        "NotificationSent", "other-n", {"correlation_id": "T-1", "audience": "agents", "about_event_id": "T-1-z"}
    )
    ledger.add_event("TicketAnalyzed", "other-z", {"ticket_id": "T-1"})
    ledger.crm_cases["T-1"] = {"case-1", "case-2"}
    ledger.add_sns("agents", "sns-1", "T-1-z")
    ledger.add_sns("agents", "sns-1", "T-1-z")  # the same SNS message read twice is one
    ledger.add_sns("agents", "sns-2", "T-1-z")
    # Then each doubled effect is reported
    found = duplicates(ledger)
    assert len(found) == 5
    assert any("CrmRecordUpdated" in line for line in found)
    assert any("NotificationSent agents" in line for line in found)
    assert any("TicketAnalyzed x2" in line for line in found)
    assert any("2 CRM cases" in line for line in found)
    assert any(line.startswith("SNS agents") for line in found)


def test_a_missing_stage_keeps_the_ticket_waiting_unless_that_stage_is_not_deployed() -> None:
    # Given a flow stopped before the CRM update and the notification
    ledger = Ledger(expected={"T-1": "accepted"})
    for detail_type in ("TicketAccepted", "TicketClassified", "SentimentAnalyzed", "TicketAnalyzed"):
        ledger.add_event(
            detail_type,
            f"{detail_type}-1",
            {"ticket_id": "T-1", "priority": "high", "subject_kind": "ticket", "subject_id": "T-1"},
        )
    # Then it is not done with the CRM and the notifier deployed, and done without them
    assert not ticket_done(ledger, "T-1", ALL_STAGES, ROUTES)
    assert not ticket_done(ledger, "T-1", ALL_STAGES - {"crm"}, ROUTES)
    assert ticket_done(ledger, "T-1", ALL_STAGES - {"crm", "notify"}, ROUTES)


def test_a_ticket_not_routed_anywhere_needs_no_notification() -> None:
    # Given a normal-priority flow (no route matches it)
    ledger = Ledger(expected={"T-2": "accepted"})
    _full_flow(ledger, "T-2", priority="normal")
    # Then it is done without a notification
    assert ticket_done(ledger, "T-2", ALL_STAGES, ROUTES)


def test_stage_latencies_and_usage_come_from_the_events() -> None:
    # Given one flow with known event times and usage
    ledger = Ledger(expected={"T-1": "accepted"})
    _full_flow(ledger, "T-1")
    # When the report's figures are computed
    latency = stage_latency_ms(ledger)
    tokens, cost = usage(ledger)
    # Then each stage's time is the gap from what it waits for to what it emits
    assert latency["intake"]["p50"] == 1000.0
    assert latency["classify"]["p50"] == 2000.0
    assert latency["sentiment"]["p50"] == 1000.0
    assert latency["record"]["p50"] == 1000.0  # from the later of classification and sentiment
    assert latency["crm"]["p50"] == 2000.0
    assert latency["end_to_end"]["p50"] == 6000.0
    assert (tokens, cost) == (175, 0.0015)


def test_events_of_other_runs_are_ignored() -> None:
    # Given an event about a ticket this run did not submit, Then it is not recorded
    ledger = Ledger(expected={"T-1": "accepted"})
    assert ledger.add_event("TicketAccepted", "x", {"ticket_id": "T-other", "correlation_id": "T-other"}) is None
    assert ledger.events == []


def test_a_completed_ticket_stays_completed_when_a_later_stage_dead_letters_its_event() -> None:
    # Given a full flow, and one of its events also in a DLQ of a stage the run does not track
    ledger = Ledger(expected={"T-1": "accepted", "T-2": "accepted"})
    _full_flow(ledger, "T-1")
    ledger.dead_tickets.add("T-1")
    # And a ticket that stopped after intake with its event in a DLQ
    ledger.add_event("TicketAccepted", "T-2-a", {"ticket_id": "T-2"})
    ledger.dead_tickets.add("T-2")
    # Then the first is completed and the second dead-lettered
    assert ticket_end(ledger, "T-1", ALL_STAGES, ROUTES) == "completed"
    assert ticket_end(ledger, "T-2", ALL_STAGES, ROUTES) == "dead-lettered"
