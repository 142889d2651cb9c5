"""The CRM update worker's rules: merge a ticket event into the customer's case, then say so on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from schemas.events import CrmRecordUpdated, TicketAnalyzed
from workers.crm_update.port import CaseRecord, CrmPort, CustomerNotFound, VersionConflict
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

# A ticket whose upstream knew no customer still gets a case, under one shared customer.
ANONYMOUS_CUSTOMER = "anonymous"


def merge_note(detail_type: str, event_id: str) -> str:
    """The note a merge appends: the case itself then says the event is in, whatever a retry finds."""
    return f"supportflow merged {detail_type} {event_id}"


def case_fields(event: TicketAnalyzed) -> dict[str, Any]:
    """What an analysed ticket sets on its case: the redacted subject and one-line summary, never the body."""
    fields = {
        "subject": event.subject or None,
        "status": "escalated" if event.needs_escalation else "open",
        "priority": event.priority,
        "intent": event.intent,
        "category": event.category,
        "sentiment": event.sentiment,
        "summary": event.summary or None,
        "escalated": event.needs_escalation,
    }
    # An empty summary never erases one an agent or an earlier analysis wrote.
    return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class ConflictPolicy:
    """How many times a lost version race is re-read and merged before the record fails."""

    attempts: int = 5


class CrmUpdateService:
    """Merges each event into one case per ticket and emits CrmRecordUpdated."""

    def __init__(self, crm: CrmPort, publisher: EventPublisher, conflicts: ConflictPolicy | None = None) -> None:
        self._crm = crm
        self._publisher = publisher
        self._conflicts = conflicts or ConflictPolicy()

    def merge(self, event: TicketAnalyzed) -> CrmRecordUpdated:
        """Open or update the ticket's case; raise (the record fails) if the CRM cannot take it."""
        customer_id = event.customer_id or ANONYMOUS_CUSTOMER
        wanted = case_fields(event)
        note = merge_note(event.detail_type, event.event_id)
        case, created = self._open(customer_id, event, wanted, note)
        changed = sorted(wanted) if created else []
        if not created:
            case, changed = self._update(case, wanted, note)
        updated = event.follow_up(
            CrmRecordUpdated,
            ticket_id=event.ticket_id,
            customer_id=customer_id,
            crm_record_id=case.case_id,
            version=case.version,
            fields_changed=changed,
            about_event_id=event.event_id,
        )
        self._publisher.publish([updated])
        logger.info(
            "crm case merged",
            extra={"crm_record_id": case.case_id, "version": case.version, "case_created": created, "fields": changed},
        )
        return updated

    def _open(
        self, customer_id: str, event: TicketAnalyzed, wanted: dict[str, Any], note: str
    ) -> tuple[CaseRecord, bool]:
        try:
            return self._crm.open_case(customer_id, event.ticket_id, wanted, note)
        except CustomerNotFound:
            self._crm.create_customer(customer_id, event.customer_tier)
            return self._crm.open_case(customer_id, event.ticket_id, wanted, note)

    def _update(self, case: CaseRecord, wanted: dict[str, Any], note: str) -> tuple[CaseRecord, list[str]]:
        for _attempt in range(self._conflicts.attempts):
            if note in case.notes:
                # Merged before (a redelivery, or a retry after a timeout the CRM did apply).
                return case, []
            changes = case.differences(wanted)
            try:
                return self._crm.update_case(case.case_id, case.version, changes, note), sorted(changes)
            except VersionConflict:
                logger.info("crm version conflict, re-reading", extra={"crm_record_id": case.case_id})
                case = self._crm.get_case(case.case_id)
        raise VersionConflict(case.case_id)
