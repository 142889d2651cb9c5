"""The ticket record's rules: fold any ticket event into the item, in any order; emit TicketAnalyzed once.

No AWS in here. The fold is commutative and idempotent per field: each source keeps its newest fact
by (occurred_at, event_id), notifications are a union keyed by event id, an event id applies once,
and every derived view (status, customer, priority, escalation) is recomputed from the facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools import Logger
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from schemas.bus import BusEvent
from schemas.envelope import Event, derived_event_id
from schemas.events import (
    CrmRecordUpdated,
    EscalationRequested,
    EscalationResolved,
    NotificationSent,
    ResponseDrafted,
    SentimentAnalyzed,
    TicketAccepted,
    TicketAnalyzed,
    TicketClassified,
)
from workers.shared.publisher import EventPublisher
from workers.ticket_record.record import (
    Analysis,
    Classification,
    CrmLink,
    Customer,
    Draft,
    EscalationRequest,
    EscalationResolution,
    Fact,
    Notification,
    Sentiment,
    Status,
    TicketFacts,
    TicketRecord,
    empty_record,
)
from workers.ticket_record.rules import EscalationRules
from workers.ticket_record.store import TicketStore, VersionConflict

logger = Logger(child=True)

FOLDED_EVENTS: dict[str, type[Event]] = {
    event_type.detail_type: event_type
    for event_type in (
        TicketAccepted,
        TicketClassified,
        SentimentAnalyzed,
        ResponseDrafted,
        CrmRecordUpdated,
        EscalationRequested,
        EscalationResolved,
        NotificationSent,
    )
}
_SLOTS: dict[type[Event], tuple[str, type[Fact]]] = {
    TicketAccepted: ("ticket", TicketFacts),
    TicketClassified: ("classification", Classification),
    SentimentAnalyzed: ("sentiment", Sentiment),
    ResponseDrafted: ("draft", Draft),
    CrmRecordUpdated: ("crm", CrmLink),
    EscalationRequested: ("escalation_request", EscalationRequest),
    EscalationResolved: ("escalation_resolution", EscalationResolution),
}


_RESOLVED: dict[str, Status] = {
    "approved": "escalation_approved",
    "rejected": "escalation_rejected",
    "timed_out": "escalation_timed_out",
    "failed": "escalation_failed",
}


def analyzed_event_id(tenant_id: str, ticket_id: str) -> str:
    """The one TicketAnalyzed id of a ticket, whatever submission or redelivery completed it."""
    return derived_event_id(f"{tenant_id}#{ticket_id}", TicketAnalyzed.detail_type)


def ticket_of(event: Event) -> str | None:
    """The ticket an event is about, or None when it is about something else (feedback)."""
    if isinstance(event, SentimentAnalyzed):
        return event.subject_id if event.subject_kind == "ticket" else None
    if isinstance(event, NotificationSent):
        # Notifications carry the flow's correlation id, which is the ticket id for ticket flows.
        return event.correlation_id
    ticket_id = getattr(event, "ticket_id", None)
    return ticket_id if isinstance(ticket_id, str) else None


def _fact_of(event: Event, fact_type: type[Fact]) -> Fact:
    fields = event.model_dump(include=set(fact_type.model_fields) - {"event_id", "occurred_at"})
    return fact_type(event_id=event.event_id, occurred_at=event.occurred_at, **fields)


def _merge(record: TicketRecord, event: Event) -> TicketRecord:
    if isinstance(event, NotificationSent):
        notification = _fact_of(event, Notification)
        return record.model_copy(update={"notifications": {**record.notifications, event.event_id: notification}})
    slot, fact_type = _SLOTS[type(event)]
    fact = _fact_of(event, fact_type)
    if fact.newer_than(getattr(record, slot)):
        return record.model_copy(update={slot: fact})
    return record


def _status(record: TicketRecord) -> Status:
    if record.escalation_resolution is not None:
        return _RESOLVED[record.escalation_resolution.decision]
    if record.escalation_request is not None:
        return "escalated"
    if record.draft is not None:
        return "drafted"
    if record.ticket and record.classification and record.sentiment:
        return "analyzed"
    return "accepted" if record.ticket else "pending"


def _analyzed_event(
    record: TicketRecord,
    ticket: TicketFacts,
    classification: Classification,
    sentiment: Sentiment,
    escalation_reasons: list[str],
) -> TicketAnalyzed:
    return TicketAnalyzed(
        event_id=analyzed_event_id(record.tenant_id, record.ticket_id),
        correlation_id=ticket.correlation_id,
        tenant_id=record.tenant_id,
        # The time of the fact that completed the join: the same event whatever the arrival order.
        occurred_at=max(ticket.occurred_at, classification.occurred_at, sentiment.occurred_at),
        ticket_id=record.ticket_id,
        priority=ticket.priority,
        customer_id=ticket.customer_id,
        customer_tier=ticket.customer_tier,
        language=ticket.language,
        subject=ticket.subject,
        body=ticket.body,
        intent=classification.intent,
        category=classification.category,
        confidence=classification.confidence,
        summary=classification.summary,
        key_issues=classification.key_issues,
        needs_review=classification.needs_review,
        sentiment=sentiment.label,
        sentiment_score=sentiment.score,
        urgency_cues=sentiment.urgency_cues,
        needs_escalation=bool(escalation_reasons),
        escalation_reasons=escalation_reasons,
    )


def _derive(record: TicketRecord, rules: EscalationRules) -> TicketRecord:
    ticket = record.ticket
    update: dict[str, Any] = {"status": _status(record)}
    if ticket is not None:
        update["customer"] = Customer(customer_id=ticket.customer_id, tier=ticket.customer_tier)
        update["priority"] = ticket.priority
    classification, sentiment = record.classification, record.sentiment
    if ticket and classification and sentiment:
        escalation = rules.decide(ticket, classification, sentiment)
        update["escalation"] = escalation
        if record.analysis is None:
            # Recorded in the same conditional write as the fact that completed the join: exactly once.
            event = _analyzed_event(record, ticket, classification, sentiment, escalation.reasons)
            update["analysis"] = Analysis(event_id=event.event_id, event=event.model_dump(mode="json"))
    return record.model_copy(update=update)


def fold(record: TicketRecord | None, event: Event, ticket_id: str, rules: EscalationRules) -> TicketRecord | None:
    """The item after ``event``; None when nothing changes (already applied, or nothing to attach to)."""
    if record is None and isinstance(event, NotificationSent):
        # Not a ticket we record (a feedback flow, or a correlation id that is not a ticket id).
        return None
    current = record or empty_record(event.tenant_id, ticket_id)
    if event.event_id in current.applied_event_ids:
        return None
    merged = _merge(current, event)
    updated_at = max(filter(None, (current.updated_at, event.occurred_at)))
    merged = merged.model_copy(
        update={
            "applied_event_ids": sorted({*current.applied_event_ids, event.event_id}),
            "version": current.version + 1,
            "updated_at": updated_at,
        }
    )
    return _derive(merged, rules)


def mark_published(record: TicketRecord) -> TicketRecord | None:
    """The item with its TicketAnalyzed marked as published; None if there is nothing to mark."""
    if record.analysis is None or record.analysis.published:
        return None
    analysis = record.analysis.model_copy(update={"published": True})
    return record.model_copy(update={"analysis": analysis, "version": record.version + 1})


@dataclass(frozen=True)
class RetryPolicy:
    """How often a write that lost a version race is retried before the record fails back to SQS."""

    attempts: int = 8
    max_wait_seconds: float = 0.5


@dataclass(frozen=True)
class FoldOutcome:
    """What processing one event did: applied, duplicate or ignored, and the TicketAnalyzed it published."""

    detail_type: str
    event_id: str
    result: Literal["applied", "duplicate", "ignored"]
    analyzed: TicketAnalyzed | None = None


class TicketRecordService:
    """Folds ticket events into the tickets table and publishes each ticket's TicketAnalyzed once."""

    def __init__(
        self,
        store: TicketStore,
        publisher: EventPublisher,
        rules: EscalationRules,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._rules = rules
        self._retry = retry or RetryPolicy()

    def process(self, bus_event: BusEvent) -> FoldOutcome:
        """Fold one bus event; raise on malformed events and on lost races beyond the retry policy."""
        event_type = FOLDED_EVENTS.get(bus_event.detail_type)
        if event_type is None:
            logger.info("event not folded", extra={"detail_type": bus_event.detail_type, "event_id": bus_event.id})
            return FoldOutcome(bus_event.detail_type, bus_event.id, "ignored")
        # A malformed ticket event raises: SQS retries it and the DLQ keeps it.
        event = event_type.from_detail(bus_event.detail)
        ticket_id = ticket_of(event)
        if ticket_id is None:
            return FoldOutcome(event.detail_type, event.event_id, "ignored")
        record, result = self._with_retries(lambda: self._apply(event, ticket_id))
        analyzed = None
        if record is not None and record.analysis is not None and not record.analysis.published:
            # Published after the mark and before the "published" flag: a crash in between publishes the
            # same event id again on the redelivery (any event of the ticket), and consumers deduplicate.
            analyzed = TicketAnalyzed.model_validate(record.analysis.event)
            self._publisher.publish([analyzed])
            self._with_retries(lambda: self._mark_published(event.tenant_id, ticket_id))
        logger.info(
            "ticket event folded",
            extra={
                "detail_type": event.detail_type,
                "event_id": event.event_id,
                "result": result,
                "analyzed_published": analyzed is not None,
            },
        )
        return FoldOutcome(event.detail_type, event.event_id, result, analyzed)

    def _with_retries(self, attempt: Callable[[], Any]) -> Any:
        retrying = Retrying(
            retry=retry_if_exception_type(VersionConflict),
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_random_exponential(multiplier=0.01, max=self._retry.max_wait_seconds),
            reraise=True,
        )
        return retrying(attempt)

    def _apply(
        self, event: Event, ticket_id: str
    ) -> tuple[TicketRecord | None, Literal["applied", "duplicate", "ignored"]]:
        current = self._store.get(event.tenant_id, ticket_id)
        updated = fold(current, event, ticket_id, self._rules)
        if updated is None:
            return current, "duplicate" if current is not None else "ignored"
        self._store.put(updated, current.version if current else None)
        return updated, "applied"

    def _mark_published(self, tenant_id: str, ticket_id: str) -> None:
        current = self._store.get(tenant_id, ticket_id)
        marked = mark_published(current) if current is not None else None
        if marked is not None and current is not None:
            self._store.put(marked, current.version)
