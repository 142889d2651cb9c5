"""Feedback on the customer's record: one case per feedback, its analysis in a note, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.events import CrmRecordUpdated, FeedbackAnalyzed
from workers.crm_update.fake import InMemoryCrm
from workers.crm_update.feedback import FeedbackCrmService, feedback_case_id
from workers.shared.publisher import InMemoryPublisher

LoadEvent = Callable[[str], dict[str, Any]]


def analyzed(load_event: LoadEvent, **changes: Any) -> FeedbackAnalyzed:
    return FeedbackAnalyzed.from_detail({**load_event("FeedbackAnalyzed")["detail"], **changes})


def test_feedback_becomes_a_case_on_its_customer_with_the_analysis_in_a_note(load_event: LoadEvent) -> None:
    # Given analysed feedback from a customer the CRM does not know yet
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    event = analyzed(load_event, sentiment="very_negative", sentiment_score=-0.9)
    # When it is attached
    updated = FeedbackCrmService(crm, publisher).attach(event)
    # Then the customer exists and holds one high-priority feedback case with the summary and a note
    (case,) = crm.cases.values()
    assert (case.customer_id, case.ticket_id) == ("C-42", feedback_case_id("F-77"))
    assert (case.priority, case.sentiment, case.summary) == ("high", "very_negative", event.summary)
    assert case.notes[0].endswith("very_negative (-0.90); topics: delivery")
    # And CrmRecordUpdated names the record and the event merged
    assert isinstance(updated, CrmRecordUpdated) and publisher.published == [updated]
    assert (updated.crm_record_id, updated.about_event_id) == (case.case_id, event.event_id)


def test_a_redelivered_feedback_event_changes_nothing(load_event: LoadEvent) -> None:
    # Given feedback already attached
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service = FeedbackCrmService(crm, publisher)
    service.attach(analyzed(load_event))
    # When the same event comes again
    again = service.attach(analyzed(load_event))
    # Then the case keeps its version and one note, and nothing is reported changed
    (case,) = crm.cases.values()
    assert (case.version, len(case.notes), again.fields_changed) == (1, 1, [])


def test_feedback_without_a_customer_lands_on_the_anonymous_record(load_event: LoadEvent) -> None:
    # Given feedback whose customer nobody knows
    crm = InMemoryCrm()
    FeedbackCrmService(crm, InMemoryPublisher()).attach(analyzed(load_event, customer_id=None))
    # Then it is kept under the shared anonymous customer
    (case,) = crm.cases.values()
    assert case.customer_id == "anonymous"
