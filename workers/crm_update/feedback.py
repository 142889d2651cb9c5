"""Feedback on the customer's CRM record: one case per piece of feedback, its analysis in a note."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from schemas.events import CrmRecordUpdated, FeedbackAnalyzed
from workers.crm_update.logic import ANONYMOUS_CUSTOMER
from workers.crm_update.outcomes import merge_note
from workers.crm_update.port import CrmPort, CustomerNotFound
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

# The case key of feedback: "." stays unescaped in a URL path (":" would travel as %3A), and no ticket id starts so.
FEEDBACK_CASE_PREFIX = "feedback."
DEFAULT_TIER = "standard"


def feedback_case_id(feedback_id: str) -> str:
    """The CRM case key of one piece of feedback."""
    return f"{FEEDBACK_CASE_PREFIX}{feedback_id}"[:64]


def feedback_fields(event: FeedbackAnalyzed) -> dict[str, Any]:
    """What feedback sets on its case: its summary and sentiment; strongly negative feedback is high priority."""
    return {
        "subject": "Customer feedback",
        "status": "resolved",
        "priority": "high" if event.sentiment == "very_negative" else "normal",
        "intent": "feedback",
        "category": "feedback",
        "sentiment": event.sentiment,
        "summary": event.summary[:500],
    }


def feedback_note(event: FeedbackAnalyzed) -> str:
    """The note the customer's record carries: the merge marker, the sentiment and the topics."""
    topics = ", ".join(event.topics) or "none"
    reading = f"{event.sentiment} ({event.sentiment_score:+.2f}); topics: {topics}"
    return f"{merge_note(event.detail_type, event.event_id)}: {reading}"[:2000]


class FeedbackCrmService:
    """Attaches analysed feedback to its customer's record and emits ``CrmRecordUpdated``."""

    def __init__(self, crm: CrmPort, publisher: EventPublisher) -> None:
        self._crm = crm
        self._publisher = publisher

    def attach(self, event: FeedbackAnalyzed) -> CrmRecordUpdated:
        """Open the feedback's case (once: a redelivery finds it and its note) and say so on the bus."""
        customer_id = event.customer_id or ANONYMOUS_CUSTOMER
        case_id = feedback_case_id(event.feedback_id)
        fields, note = feedback_fields(event), feedback_note(event)
        try:
            case, created = self._crm.open_case(customer_id, case_id, fields, note)
        except CustomerNotFound:
            self._crm.create_customer(customer_id, DEFAULT_TIER)
            case, created = self._crm.open_case(customer_id, case_id, fields, note)
        if not created and note not in case.notes:
            case = self._crm.update_case(case.case_id, case.version, case.differences(fields), note)
        updated = event.follow_up(
            CrmRecordUpdated,
            ticket_id=case_id,
            customer_id=customer_id,
            crm_record_id=case.case_id,
            version=case.version,
            fields_changed=sorted(fields) if created else [],
            about_event_id=event.event_id,
        )
        self._publisher.publish([updated])
        logger.info("feedback attached to crm record", extra={"crm_record_id": case.case_id, "case_created": created})
        return updated
