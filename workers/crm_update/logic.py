"""The CRM update worker's rules: merge a ticket's events into the customer's case, then say so on the bus.

A ticket's analysis, its drafted reply and its escalation's outcome go into the one case of
(customer, ticket), each merged once per event id (its note on the case marks it in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from schemas.bus import BusEvent
from schemas.events import CrmRecordUpdated, EscalationResolved, ResponseDrafted, TicketAnalyzed
from workers.crm_update.outcomes import (
    draft_fields,
    draft_note,
    merge_note,
    resolution_fields,
    resolution_note,
    without_regression,
)
from workers.crm_update.port import CaseRecord, CrmPort, CustomerNotFound, VersionConflict
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

# A ticket whose upstream knew no customer still gets a case, under one shared customer.
ANONYMOUS_CUSTOMER = "anonymous"
# The tier of a customer first seen through a draft or an escalation outcome (its analysis not merged yet).
DEFAULT_TIER = "standard"
# What the worker's queue carries; anything else is misrouted and fails the record.
CRM_EVENTS: tuple[type[TicketAnalyzed] | type[ResponseDrafted] | type[EscalationResolved], ...] = (
    TicketAnalyzed,
    ResponseDrafted,
    EscalationResolved,
)


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

    def process(self, bus_event: BusEvent) -> CrmRecordUpdated:
        """Merge whichever ticket event the bus delivered; raise on a misrouted or malformed one."""
        bus_event.expect(*CRM_EVENTS)
        if bus_event.detail_type == ResponseDrafted.detail_type:
            return self.merge_draft(ResponseDrafted.from_detail(bus_event.detail))
        if bus_event.detail_type == EscalationResolved.detail_type:
            return self.merge_resolution(EscalationResolved.from_detail(bus_event.detail))
        return self.merge(TicketAnalyzed.from_detail(bus_event.detail))

    def merge(self, event: TicketAnalyzed) -> CrmRecordUpdated:
        """Open or update the ticket's case; raise (the record fails) if the CRM cannot take it."""
        note = merge_note(event.detail_type, event.event_id)
        return self._merge(event, event.customer_tier, case_fields(event), note)

    def merge_draft(self, event: ResponseDrafted) -> CrmRecordUpdated:
        """The drafted reply, its grounding and sources onto the ticket's case."""
        return self._merge(event, DEFAULT_TIER, draft_fields(event), draft_note(event))

    def merge_resolution(self, event: EscalationResolved) -> CrmRecordUpdated:
        """The escalation's decision (and the approved reply) onto the ticket's case."""
        return self._merge(event, DEFAULT_TIER, resolution_fields(event), resolution_note(event))

    def _merge(
        self,
        event: TicketAnalyzed | ResponseDrafted | EscalationResolved,
        tier: str,
        wanted: dict[str, Any],
        note: str,
    ) -> CrmRecordUpdated:
        ticket_id, customer_id = event.ticket_id, event.customer_id or ANONYMOUS_CUSTOMER
        case, created = self._open(customer_id, ticket_id, tier, wanted, note)
        changed = sorted(wanted) if created else []
        if not created:
            case, changed = self._update(case, wanted, note)
        updated = event.follow_up(
            CrmRecordUpdated,
            ticket_id=ticket_id,
            customer_id=customer_id,
            crm_record_id=case.case_id,
            version=case.version,
            fields_changed=changed,
            about_event_id=event.event_id,
        )
        self._publisher.publish([updated])
        logger.info(
            "crm case merged",
            extra={
                "detail_type": event.detail_type,
                "crm_record_id": case.case_id,
                "version": case.version,
                "case_created": created,
                "fields": changed,
            },
        )
        return updated

    def _open(
        self, customer_id: str, ticket_id: str, tier: str, wanted: dict[str, Any], note: str
    ) -> tuple[CaseRecord, bool]:
        try:
            return self._crm.open_case(customer_id, ticket_id, wanted, note)
        except CustomerNotFound:
            self._crm.create_customer(customer_id, tier)
            return self._crm.open_case(customer_id, ticket_id, wanted, note)

    def _update(self, case: CaseRecord, wanted: dict[str, Any], note: str) -> tuple[CaseRecord, list[str]]:
        for _attempt in range(self._conflicts.attempts):
            if note in case.notes:
                # Merged before (a redelivery, or a retry after a timeout the CRM did apply).
                return case, []
            changes = case.differences(without_regression(wanted, case.status))
            try:
                return self._crm.update_case(case.case_id, case.version, changes, note), sorted(changes)
            except VersionConflict:
                logger.info("crm version conflict, re-reading", extra={"crm_record_id": case.case_id})
                case = self._crm.get_case(case.case_id)
        raise VersionConflict(case.case_id)
