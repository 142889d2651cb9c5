"""A ticket's path to its end (drafted, or escalated and resolved), the report's new figures, the run's approver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supportflow.escalations import Decision, Escalations, Sent, Waiting
from supportflow.local.run.approver import EDIT_SUFFIX, Approver, escalation_parameters, wants_edit
from supportflow.local.run.costs import HAIKU, NOVA_LITE, SONNET, cost_report, what_if
from supportflow.local.run.ledger import Ledger, Route, duplicates, stage_latency_ms, ticket_end
from supportflow.local.run.report import drafts, escalation_counts

STAGES = {"intake", "classify", "sentiment", "record", "crm", "notify", "draft", "escalation"}
ROUTES = [
    Route("ResponseDrafted", "customers", {"for_escalation": [False], "grounded": [True]}),
    Route("EscalationResolved", "customers", {"decision": ["approved"]}),
]
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
USAGE = {"input_tokens": 1000, "output_tokens": 100, "estimated_cost_usd": 0.004}


def _delivered(ms: float) -> datetime:
    return START + timedelta(milliseconds=ms)


def _analysed(ledger: Ledger, ticket: str, *, escalate: bool) -> dict[str, Any]:
    """The events up to the ticket's analysis (merged into the CRM), all with the same copied occurred_at."""
    common: dict[str, Any] = {"correlation_id": ticket, "ticket_id": ticket, "occurred_at": START.isoformat()}
    ledger.add_event("TicketSubmitted", f"{ticket}-s", common, _delivered(0))
    ledger.add_event("TicketAccepted", f"{ticket}-a", {**common, "priority": "normal"}, _delivered(10))
    classified = {**common, "intent": "get_refund", "model_id": "haiku", "usage": USAGE}
    ledger.add_event("TicketClassified", f"{ticket}-c", classified, _delivered(30))
    sentiment = {**common, "subject_id": ticket, "subject_kind": "ticket", "label": "negative", "usage": USAGE}
    ledger.add_event("SentimentAnalyzed", f"{ticket}-m", sentiment, _delivered(25))
    analyzed = {**common, "priority": "normal", "needs_escalation": escalate}
    ledger.add_event("TicketAnalyzed", f"{ticket}-z", analyzed, _delivered(40))
    ledger.add_event("CrmRecordUpdated", f"{ticket}-r", {**common, "about_event_id": f"{ticket}-z"}, _delivered(50))
    return common


def _drafted(ledger: Ledger, ticket: str, common: dict[str, Any], *, event_id: str = "", merged: bool = True) -> None:
    draft_id = event_id or f"{ticket}-d"
    detail = {**common, "for_escalation": False, "grounded": True, "model_id": "sonnet", "usage": USAGE}
    ledger.add_event("ResponseDrafted", draft_id, detail, _delivered(900))
    if merged:
        ledger.add_event("CrmRecordUpdated", f"{draft_id}-r", {**common, "about_event_id": draft_id}, _delivered(950))
    notified = {**common, "audience": "customers", "about_event_id": draft_id}
    ledger.add_event("NotificationSent", f"{draft_id}-n", notified, _delivered(960))


def _escalated(ledger: Ledger, ticket: str, common: dict[str, Any], decision: str, *, edited: bool = False) -> None:
    ledger.add_event("EscalationRequested", f"{ticket}-q", common, _delivered(60))
    draft = {**common, "for_escalation": True, "grounded": False, "model_id": "sonnet", "usage": USAGE}
    ledger.add_event("ResponseDrafted", f"{ticket}-d", draft, _delivered(800))
    resolved = {**common, "decision": decision, "edited": edited}
    ledger.add_event("EscalationResolved", f"{ticket}-e", resolved, _delivered(2000))
    merged = {**common, "about_event_id": f"{ticket}-e"}
    ledger.add_event("CrmRecordUpdated", f"{ticket}-e-r", merged, _delivered(2050))
    if decision == "approved":
        notified = {**common, "audience": "customers", "about_event_id": f"{ticket}-e"}
        ledger.add_event("NotificationSent", f"{ticket}-e-n", notified, _delivered(2060))


def test_a_ticket_not_escalated_is_completed_once_its_draft_is_merged_and_notified() -> None:
    # Given an analysed ticket whose draft is on the bus but not yet in the CRM
    ledger = Ledger(expected={"T-1": "accepted"})
    common = _analysed(ledger, "T-1", escalate=False)
    # Then the analysis alone is not its end
    assert ticket_end(ledger, "T-1", STAGES, ROUTES) is None
    _drafted(ledger, "T-1", common, merged=False)
    assert ticket_end(ledger, "T-1", STAGES, ROUTES) is None
    # When the CRM update about the draft arrives, Then it is completed
    ledger.add_event("CrmRecordUpdated", "T-1-d-r", {**common, "about_event_id": "T-1-d"}, _delivered(950))
    assert ticket_end(ledger, "T-1", STAGES, ROUTES) == "completed"


def test_an_escalated_ticket_is_completed_by_its_resolution_not_by_its_draft() -> None:
    # Given an escalated ticket with its draft for approval and no decision yet
    ledger = Ledger(expected={"T-2": "accepted"})
    common = _analysed(ledger, "T-2", escalate=True)
    ledger.add_event("EscalationRequested", "T-2-q", common, _delivered(60))
    ledger.add_event("ResponseDrafted", "T-2-d", {**common, "for_escalation": True}, _delivered(800))
    assert ticket_end(ledger, "T-2", STAGES, ROUTES) is None
    # When the escalation is resolved, merged and notified
    ledger.add_event("EscalationResolved", "T-2-e", {**common, "decision": "approved"}, _delivered(2000))
    ledger.add_event("CrmRecordUpdated", "T-2-e-r", {**common, "about_event_id": "T-2-e"}, _delivered(2050))
    notified = {**common, "audience": "customers", "about_event_id": "T-2-e"}
    ledger.add_event("NotificationSent", "T-2-e-n", notified, _delivered(2060))
    # Then it is completed
    assert ticket_end(ledger, "T-2", STAGES, ROUTES) == "completed"


def test_without_the_drafting_and_escalation_stages_the_analysis_is_the_end() -> None:
    # Given an analysed ticket on a stack with neither drafting nor escalation deployed
    ledger = Ledger(expected={"T-3": "accepted"})
    _analysed(ledger, "T-3", escalate=True)
    # Then its analysis ends it
    assert ticket_end(ledger, "T-3", STAGES - {"draft", "escalation"}, ROUTES) == "completed"


def test_a_second_draft_or_resolution_for_one_ticket_is_a_duplicate() -> None:
    # Given one ticket drafted twice (two event ids), another resolved twice
    ledger = Ledger(expected={"T-1": "accepted", "T-2": "accepted"})
    common = _analysed(ledger, "T-1", escalate=False)
    _drafted(ledger, "T-1", common)
    _drafted(ledger, "T-1", common, event_id="T-1-d-again")
    escalated = _analysed(ledger, "T-2", escalate=True)
    _escalated(ledger, "T-2", escalated, "approved")
    again = {**escalated, "decision": "rejected"}
    ledger.add_event("EscalationResolved", "T-2-e-again", again, _delivered(3000))
    # Then both are reported, and redeliveries of the same ids are not
    assert duplicates(ledger) == ["T-1: ResponseDrafted x2", "T-2: EscalationResolved x2"]


def test_stage_latency_is_measured_between_bus_deliveries_not_copied_times() -> None:
    # Given events whose occurred_at is the same copied instant, delivered at different times
    ledger = Ledger(expected={"T-1": "accepted", "T-2": "accepted"})
    _drafted(ledger, "T-1", _analysed(ledger, "T-1", escalate=False))
    _escalated(ledger, "T-2", _analysed(ledger, "T-2", escalate=True), "approved")
    # When the latencies are computed
    latency = stage_latency_ms(ledger)
    # Then each stage reads the gap between deliveries
    assert latency["record"]["p50"] == 10.0  # classified at 30 ms, sentiment at 25 ms, analysed at 40 ms
    assert latency["draft"]["p50"] == 860.0
    assert latency["escalation_draft"]["p50"] == 740.0
    assert latency["escalation_resolved"]["p50"] == 1940.0
    assert latency["crm"]["p50"] == 10.0


def test_a_delivery_seen_after_the_submission_gives_the_submitted_event_its_time() -> None:
    # Given a ticket recorded at submission (no delivery time yet)
    ledger = Ledger(expected={"T-1": "accepted"})
    ledger.add_event("TicketSubmitted", "T-1-s", {"ticket_id": "T-1"})
    # When the tap sees the same event delivered
    ledger.add_event("TicketSubmitted", "T-1-s", {"ticket_id": "T-1"}, _delivered(5))
    # Then the one recorded event carries the delivery time
    (submitted,) = ledger.by_ticket["T-1"]["TicketSubmitted"]
    assert submitted.at == _delivered(5)


def test_the_report_counts_drafts_escalation_ends_and_cost_per_ticket() -> None:
    # Given two drafted tickets and four escalations, one for each end
    ledger = Ledger(expected={f"T-{i}": "accepted" for i in range(6)})
    for ticket in ("T-0", "T-1"):
        _drafted(ledger, ticket, _analysed(ledger, ticket, escalate=False))
    for ticket, decision in zip(
        ("T-2", "T-3", "T-4", "T-5"), ("approved", "rejected", "timed_out", "failed"), strict=True
    ):
        _escalated(ledger, ticket, _analysed(ledger, ticket, escalate=True), decision, edited=decision == "approved")
    # When the report's figures are computed
    counted, escalations, cost = drafts(ledger), escalation_counts(ledger), cost_report(ledger, tickets=6)
    # Then
    assert counted == {"drafted": 2, "grounded": 2, "drafted_for_escalation": 4, "grounded_for_escalation": 0}
    assert escalations["requested"] == 4
    assert [escalations[end] for end in ("approved", "rejected", "timed_out", "failed")] == [1, 1, 1, 1]
    assert escalations["approved_with_edits"] == 1
    # 6 classifications + 6 sentiments + 2 drafts + 4 drafts for approval, $0.004 each, over 6 tickets
    assert cost["cost_per_ticket_usd"] == pytest.approx(18 * 0.004 / 6)
    assert cost["cost_per_1000_tickets_usd"] == pytest.approx(12.0)
    by_stage = cost["cost_by_stage"]
    assert by_stage["draft"]["events"] == 2 and by_stage["escalation_draft"]["events"] == 4
    assert by_stage["classify"]["input_tokens"] == 6000 and by_stage["classify"]["models"] == {"haiku": 6}


class FakeEscalations(Escalations):
    """The approvals table as rows in a list; a decision is sent once, as the real one does."""

    def __init__(self, rows: list[Waiting]) -> None:
        self.rows = rows
        self.sent: list[tuple[str, Decision, str | None]] = []

    def waiting(self) -> list[Waiting]:
        """Rows not decided yet."""
        decided = {ticket for ticket, _decision, _edit in self.sent}
        return [row for row in self.rows if row.ticket_id not in decided]

    def decide(
        self,
        ticket_id: str,
        decision: Decision,
        *,
        edited_reply: str | None = None,
        decided_by: str,
        comment: str | None = None,
    ) -> Sent:
        """Record the decision."""
        del decided_by, comment
        if any(ticket == ticket_id for ticket, _d, _e in self.sent):
            return Sent.ALREADY_DECIDED
        self.sent.append((ticket_id, decision, edited_reply))
        return Sent.SENT


def _waiting(ticket: str) -> Waiting:
    return Waiting(ticket, "agent", "high", "2026-11-25T10:00:00+00:00", "", grounded=True, draft="Hello.")


def test_auto_approves_each_waiting_ticket_once_some_with_an_edit() -> None:
    # Given waiting escalations of the run's tickets and one of another run
    tickets = [f"T-{i}" for i in range(9)]
    fake = FakeEscalations([_waiting(t) for t in [*tickets, "OTHER-1"]])
    approver = Approver(fake, "auto", frozenset(tickets))
    # When the approver polls twice
    approver.poll()
    approver.poll()
    # Then each of the run's tickets was approved once, the edited ones with a changed reply
    assert sorted(t for t, _d, _e in fake.sent) == tickets
    assert {d for _t, d, _e in fake.sent} == {"approve"}
    edited = {t for t, _d, e in fake.sent if e is not None}
    assert edited == {t for t in tickets if wants_edit(t)} and edited
    assert all(e == "Hello." + EDIT_SUFFIX for _t, _d, e in fake.sent if e is not None)


def test_reject_rejects_and_timeout_decides_nothing() -> None:
    # Given the same waiting ticket for two approvers
    rejecting, idle = FakeEscalations([_waiting("T-1")]), FakeEscalations([_waiting("T-1")])
    # When each polls
    Approver(rejecting, "reject", frozenset({"T-1"})).poll()
    Approver(idle, "timeout", frozenset({"T-1"})).poll()
    # Then one rejected, the other sent nothing
    assert rejecting.sent == [("T-1", "reject", None)]
    assert idle.sent == []


def test_the_timeout_mode_passes_short_approval_timeouts_to_the_stack() -> None:
    # Given the parameters of each mode, Then timeout's are short and the deciding modes' longer
    short, deciding = escalation_parameters("timeout"), escalation_parameters("auto")
    assert short["HighPriorityApprovalTimeoutSeconds"] == short["LowPriorityApprovalTimeoutSeconds"] == "2"
    assert int(deciding["NormalPriorityApprovalTimeoutSeconds"]) > int(short["NormalPriorityApprovalTimeoutSeconds"])


def test_what_if_reprices_the_measured_tokens_of_the_stages_a_scenario_moves() -> None:
    # Given a run's cost report: 2 tickets, triage on Haiku ($1/$5 per Mtok), drafts on Sonnet ($3/$15)
    prices = {HAIKU: (1.0, 5.0), SONNET: (3.0, 15.0), NOVA_LITE: (0.06, 0.24)}
    stages = {
        "classify": {"input_tokens": 1000, "output_tokens": 100, "cost_usd": 0.0015},
        "draft": {"input_tokens": 1000, "output_tokens": 100, "cost_usd": 0.0045},
    }
    report = {"cost_usd": 0.006, "cost_per_ticket_usd": 0.003, "cost_by_stage": stages}
    # When the scenarios are computed
    scenarios = what_if(report, prices)
    # Then the measured figure stands, and each scenario moves only its stages
    assert scenarios["as run (measured)"] == 3.0
    assert scenarios["triage on Sonnet 4.5 too (no routing)"] == 4.5  # classify 0.0045 + draft 0.0045 over 2
    assert scenarios["triage on Nova Lite"] == pytest.approx(2.29, abs=0.01)
    assert scenarios["drafting chain all on Haiku 4.5"] == 1.5
    assert scenarios["prompts 25 % shorter (input tokens)"] == pytest.approx(2.5)  # input is 2/3 of each cost
    assert scenarios["response cache, 10 % hits"] == 2.7
