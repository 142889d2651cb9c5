"""The ticket item as the tickets table keeps it: per-source facts, derived views, a version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from schemas.events import Channel, Priority, SentimentLabel

Tier = Literal["free", "standard", "premium", "enterprise"]
Status = Literal[
    "pending",
    "accepted",
    "analyzed",
    "drafted",
    "escalated",
    "escalation_approved",
    "escalation_rejected",
    "escalation_timed_out",
    "escalation_failed",
]


class _Model(BaseModel):
    # Items written by an older release may carry fields this one dropped: read them, do not fail.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Fact(_Model):
    """One source's latest word on the ticket; the newest (occurred_at, event_id) wins."""

    event_id: str
    occurred_at: datetime

    def newer_than(self, other: Fact | None) -> bool:
        """Whether this fact replaces ``other`` (a total order, so the fold is commutative)."""
        return other is None or (self.occurred_at, self.event_id) > (other.occurred_at, other.event_id)


class TicketFacts(Fact):
    """What intake accepted (the latest submission of this ticket id)."""

    correlation_id: str
    channel: Channel
    customer_id: str
    customer_tier: Tier
    priority: Priority
    subject: str
    body: str
    priority_source: Literal["upstream", "derived"]
    priority_reasons: list[str] = Field(default_factory=list)
    language: str
    redactions: dict[str, int] = Field(default_factory=dict)


class Customer(_Model):
    """Who raised the ticket."""

    customer_id: str
    tier: Tier


class Classification(Fact):
    """The intent classifier's answer."""

    intent: str
    category: str
    confidence: float
    summary: str = ""
    key_issues: list[str] = Field(default_factory=list)
    needs_review: bool = False
    model_id: str


class Sentiment(Fact):
    """The sentiment worker's answer."""

    label: SentimentLabel
    score: float
    urgency_cues: list[str] = Field(default_factory=list)
    model_id: str


def _source_uris(sources: Any) -> Any:
    """ResponseDrafted carries sources as objects; the record keeps their URIs."""
    if isinstance(sources, list):
        return [source.get("uri", "") if isinstance(source, dict) else source for source in sources]
    return sources


class Draft(Fact):
    """The latest drafted reply."""

    draft: str
    sources: Annotated[list[str], BeforeValidator(_source_uris)] = Field(
        default_factory=list, description="The URIs of the passages it relies on."
    )
    grounded: bool = False
    suggested_solution: str = ""
    for_escalation: bool = False
    model_id: str


class CrmLink(Fact):
    """The customer's CRM case for this ticket, at its highest version seen."""

    crm_record_id: str
    version: int
    fields_changed: list[str] = Field(default_factory=list)

    def newer_than(self, other: Fact | None) -> bool:
        """A higher CRM version wins; ties fall back to the event order."""
        if not isinstance(other, CrmLink) or other.version == self.version:
            return super().newer_than(other)
        return self.version > other.version


class EscalationRequest(Fact):
    """A ticket was sent to a human."""

    priority: Priority
    reasons: list[str]


class EscalationResolution(Fact):
    """A human (or the timeout) decided."""

    decision: Literal["approved", "rejected", "timed_out", "failed"]
    decided_by: str | None = None
    comment: str | None = None


class Notification(Fact):
    """A message sent to one audience about one event."""

    audience: str
    about_event_id: str
    topic_arn: str
    message_id: str


class Escalation(_Model):
    """The escalation decision the configured rules make on the current facts."""

    needs_escalation: bool
    reasons: list[str] = Field(default_factory=list)


class Analysis(_Model):
    """The one TicketAnalyzed of this ticket: recorded with the fact that completed it, then published."""

    event_id: str
    published: bool = False
    event: dict[str, Any]


class TicketRecord(_Model):
    """One ticket's item: keyed ``tenant#ticket``; facts per source, views derived from them, a version."""

    pk: str
    tenant_id: str
    ticket_id: str
    status: Status = "pending"
    customer: Customer | None = None
    priority: Priority | None = None
    ticket: TicketFacts | None = None
    classification: Classification | None = None
    sentiment: Sentiment | None = None
    escalation: Escalation | None = None
    escalation_request: EscalationRequest | None = None
    escalation_resolution: EscalationResolution | None = None
    draft: Draft | None = None
    crm: CrmLink | None = None
    notifications: dict[str, Notification] = Field(default_factory=dict, description="By NotificationSent id.")
    analysis: Analysis | None = None
    applied_event_ids: list[str] = Field(default_factory=list, description="Sorted; an event applies once.")
    version: int = Field(default=0, ge=0, description="Grows by one per write; writes are conditional on it.")
    updated_at: datetime | None = Field(default=None, description="When the newest fact folded in happened.")


def record_key(tenant_id: str, ticket_id: str) -> str:
    """The partition key of a ticket's item."""
    return f"{tenant_id}#{ticket_id}"


def empty_record(tenant_id: str, ticket_id: str) -> TicketRecord:
    """The item before any fact is known."""
    return TicketRecord(pk=record_key(tenant_id, ticket_id), tenant_id=tenant_id, ticket_id=ticket_id)
