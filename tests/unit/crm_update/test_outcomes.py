"""A ticket's draft and its escalation's outcome on the customer's one case: notes per event, status onward only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.bus import bus_event_for
from schemas.errors import MisroutedEvent
from schemas.events import EscalationResolved, FeedbackAnalyzed, ResponseDrafted, TicketAnalyzed
from workers.crm_update.fake import InMemoryCrm
from workers.crm_update.logic import DEFAULT_TIER, CrmUpdateService
from workers.crm_update.outcomes import MAX_NOTE_CHARS
from workers.shared.publisher import InMemoryPublisher

EVENTS = Path(__file__).resolve().parents[3] / "events"


def sample_detail(name: str, **detail: Any) -> dict[str, Any]:
    """The detail of ``events/<name>.json`` with overrides."""
    loaded = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return {**loaded["detail"], **detail}


def analyzed(**detail: Any) -> TicketAnalyzed:
    """The sample TicketAnalyzed."""
    return TicketAnalyzed.from_detail(sample_detail("TicketAnalyzed", **detail))


def drafted(**detail: Any) -> ResponseDrafted:
    """The sample ResponseDrafted (same ticket and customer as the sample analysis)."""
    return ResponseDrafted.from_detail(sample_detail("ResponseDrafted", **detail))


def resolved(**detail: Any) -> EscalationResolved:
    """The sample EscalationResolved (same ticket and customer)."""
    return EscalationResolved.from_detail(sample_detail("EscalationResolved", **detail))


def test_the_draft_joins_the_analysed_case_with_its_grounding_and_sources() -> None:
    # Given a ticket whose analysis is in the CRM
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service = CrmUpdateService(crm, publisher)
    service.merge(analyzed())
    # When its drafted reply arrives
    draft = drafted()
    updated = service.merge_draft(draft)
    # Then the same case holds the draft in a note, waits for an agent, and CrmRecordUpdated says so
    (case,) = crm.cases.values()
    assert case.status == "pending" and case.version == 2
    note = case.notes[-1]
    assert draft.event_id in note and "grounded" in note and "s3://supportflow-knowledge/policies/refunds.md" in note
    assert draft.draft in note
    assert updated.about_event_id == draft.event_id and updated.fields_changed == ["status"]
    assert updated.crm_record_id == case.case_id and updated.customer_id == "C-88"


def test_a_draft_delivered_twice_is_merged_once() -> None:
    # Given a merged draft
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service = CrmUpdateService(crm, publisher)
    service.merge(analyzed())
    service.merge_draft(drafted())
    # When the same draft is delivered again
    again = service.merge_draft(drafted())
    # Then the case is unchanged: one note for the draft, same version
    (case,) = crm.cases.values()
    assert case.version == 2 and sum("ResponseDrafted" in n for n in case.notes) == 1
    assert again.fields_changed == [] and again.version == 2


def test_an_analysis_merged_after_its_draft_does_not_move_the_status_back() -> None:
    # Given a draft that reached the CRM before the ticket's analysis (and before its customer)
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service = CrmUpdateService(crm, publisher)
    service.merge_draft(drafted())
    # When the analysis arrives
    updated = service.merge(analyzed())
    # Then one case holds both, still pending, with the analysis' fields; the customer got the default tier
    (case,) = crm.cases.values()
    assert case.status == "pending" and case.intent == "payment_issue" and len(case.notes) == 2
    assert "status" not in updated.fields_changed
    assert crm.customers == {"C-88": DEFAULT_TIER}


@pytest.mark.parametrize(
    ("decision", "status"),
    [("approved", "resolved"), ("rejected", "escalated"), ("timed_out", "escalated"), ("failed", "escalated")],
)
def test_the_escalation_outcome_lands_on_the_case(decision: str, status: str) -> None:
    # Given an escalated ticket whose draft for approval is on its case
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service = CrmUpdateService(crm, publisher)
    service.merge(analyzed(needs_escalation=True, escalation_reasons=["sentiment very_negative"]))
    service.merge_draft(drafted(for_escalation=True))
    # When the escalation ends with the decision
    outcome = resolved(decision=decision, edited=decision == "approved", reason="drafting failed")
    updated = service.merge_resolution(outcome)
    # Then the case's status says where it stands and a note says who decided what
    (case,) = crm.cases.values()
    assert case.status == status and case.escalated
    assert f"escalation {decision}" in case.notes[-1] and outcome.event_id in case.notes[-1]
    assert updated.about_event_id == outcome.event_id


def test_an_approved_reply_with_edits_is_noted_and_cut_to_the_crm_note_size() -> None:
    # Given an escalated case
    crm = InMemoryCrm()
    service = CrmUpdateService(crm, InMemoryPublisher())
    service.merge(analyzed(needs_escalation=True, escalation_reasons=["legal threat"]))
    # When a long edited reply is approved after the supervisor was asked
    service.merge_resolution(resolved(edited=True, supervisor_escalated=True, reply="x" * 5000))
    # Then the note says so and fits the CRM
    note = next(iter(crm.cases.values())).notes[-1]
    assert "with edits" in note and "supervisor" in note and "by agent-7" in note
    assert len(note) == MAX_NOTE_CHARS


def test_the_bus_event_is_dispatched_by_its_detail_type_and_anything_else_is_misrouted() -> None:
    # Given the service
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service = CrmUpdateService(crm, publisher)
    # When the three ticket events arrive as the queue delivers them
    for event in (analyzed(), drafted(), resolved()):
        service.process(bus_event_for(event, "test"))
    # Then each was merged into the one case, and a feedback event is refused
    (case,) = crm.cases.values()
    assert case.version == 3 and case.status == "resolved"
    assert len(publisher.published) == 3
    feedback = FeedbackAnalyzed.from_detail(sample_detail("FeedbackAnalyzed"))
    with pytest.raises(MisroutedEvent):
        service.process(bus_event_for(feedback, "test"))
