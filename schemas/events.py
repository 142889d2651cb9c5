"""Every event of the ticket and feedback flows. Past-tense nouns; the class name is the detail-type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyUrl, BeforeValidator, Field, NonNegativeFloat, NonNegativeInt

from schemas.envelope import Contract, Event

__all__ = [
    "ALL_EVENTS",
    "MAX_BODY_CHARS",
    "MAX_SUBJECT_CHARS",
    "ApprovalRequested",
    "Audience",
    "CatalogEnriched",
    "CatalogEnrichmentRequested",
    "Channel",
    "CrmRecordUpdated",
    "Customer",
    "DraftSource",
    "EscalationRequested",
    "EscalationResolved",
    "FeedbackAnalyzed",
    "FeedbackFailed",
    "FeedbackReceived",
    "NotificationSent",
    "Priority",
    "RecordError",
    "ResponseDrafted",
    "SentimentAnalyzed",
    "SentimentLabel",
    "TicketAccepted",
    "TicketAnalyzed",
    "TicketClassified",
    "TicketRejected",
    "TicketSubmitted",
    "TokenUsage",
    "UpstreamPriority",
    "event_json_schema",
    "normalise_priority",
]

Priority = Literal["high", "normal", "low"]

# Upstream help desks speak many dialects of priority; these are the ones we accept and map.
_PRIORITY_ALIASES: dict[str, Priority] = {
    "high": "high",
    "urgent": "high",
    "critical": "high",
    "p0": "high",
    "p1": "high",
    "normal": "normal",
    "medium": "normal",
    "p2": "normal",
    "low": "low",
    "p3": "low",
    "p4": "low",
}


def normalise_priority(value: object) -> object:
    """Map upstream priority spellings (``URGENT``, ``P1``, ``medium``) onto high/normal/low."""
    if isinstance(value, str):
        key = value.strip().lower()
        if not key:
            return None
        return _PRIORITY_ALIASES.get(key, value)
    return value


UpstreamPriority = Annotated[Priority | None, BeforeValidator(normalise_priority)]
Channel = Literal["email", "web", "chat", "phone", "api", "social"]
SentimentLabel = Literal["very_negative", "negative", "neutral", "positive"]
Audience = Literal["agents", "customers", "ops"]

MAX_SUBJECT_CHARS = 500
MAX_BODY_CHARS = 20_000


class Customer(Contract):
    """Who raised the ticket, as the upstream system knows them."""

    customer_id: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    tier: Literal["free", "standard", "premium", "enterprise"] = "standard"


class TokenUsage(Contract):
    """Tokens and estimated cost of one or more model calls."""

    input_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0
    estimated_cost_usd: NonNegativeFloat = 0.0


# --- ticket flow -----------------------------------------------------------------------------------


class TicketSubmitted(Event):
    """An upstream system (help desk, web form, email gateway) hands over a ticket."""

    ticket_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    channel: Channel = "api"
    customer: Customer
    subject: str = Field(
        default="",
        max_length=MAX_SUBJECT_CHARS,
        description="Checked again after NFKC normalisation, which can lengthen text (a character up to 18x).",
    )
    body: str = Field(
        min_length=1,
        max_length=MAX_BODY_CHARS,
        description="Checked again after NFKC normalisation, which can lengthen text (a character up to 18x).",
    )
    priority: UpstreamPriority = Field(
        default=None, description="The upstream's priority, if it set one; derived from the content if not."
    )
    language: str | None = Field(default=None, max_length=16, description="BCP 47 tag, if known upstream.")
    attributes: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict, max_length=50, description="Free-form upstream fields; never forwarded downstream."
    )


class TicketAccepted(Event):
    """Intake validated, redacted and prioritised a ticket; routed to a priority queue by this event."""

    ticket_id: str
    channel: Channel
    customer_id: str
    customer_tier: Literal["free", "standard", "premium", "enterprise"]
    subject: str
    body: str = Field(description="Normalised text with PII replaced by typed placeholders.")
    priority: Priority
    priority_source: Literal["upstream", "derived"]
    priority_reasons: list[str] = Field(default_factory=list)
    language: str
    redactions: dict[str, NonNegativeInt] = Field(
        default_factory=dict, description="How many of each PII kind were redacted."
    )


class TicketRejected(Event):
    """Intake could not accept a ticket; the reason says why, for the sender to fix."""

    ticket_id: str | None = None
    reason: str
    errors: list[str] = Field(default_factory=list)


class TicketClassified(Event):
    """Intent classification settled what the customer wants."""

    ticket_id: str
    intent: str
    category: str
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str = Field(default="", max_length=500, description="One line: what the customer wants.")
    key_issues: list[str] = Field(default_factory=list, max_length=10)
    needs_review: bool = Field(default=False, description="Confidence fell below the configured threshold.")
    model_id: str
    usage: TokenUsage = Field(default_factory=TokenUsage)


class SentimentAnalyzed(Event):
    """How the customer feels, for a ticket or a piece of feedback."""

    subject_id: str
    subject_kind: Literal["ticket", "feedback"]
    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0, description="-1 very negative … +1 positive.")
    urgency_cues: list[str] = Field(default_factory=list)
    model_id: str
    usage: TokenUsage = Field(default_factory=TokenUsage)


class TicketAnalyzed(Event):
    """Classification and sentiment joined for one ticket; the input to drafting and escalation."""

    ticket_id: str
    priority: Priority
    customer_id: str | None = None
    customer_tier: Literal["free", "standard", "premium", "enterprise"] = "standard"
    language: str | None = None
    subject: str = Field(default="", description="The redacted subject, as intake accepted it.")
    body: str = Field(default="", description="The redacted body: drafting answers it without reading any store.")
    intent: str
    category: str
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    summary: str = ""
    key_issues: list[str] = Field(default_factory=list)
    needs_review: bool = False
    sentiment: SentimentLabel
    sentiment_score: float = Field(ge=-1.0, le=1.0)
    urgency_cues: list[str] = Field(default_factory=list)
    needs_escalation: bool
    escalation_reasons: list[str] = Field(default_factory=list)


class CrmRecordUpdated(Event):
    """The CRM record for a ticket changed; version grows by one per applied change."""

    ticket_id: str
    customer_id: str | None = None
    crm_record_id: str
    version: NonNegativeInt
    fields_changed: list[str]
    about_event_id: str | None = Field(default=None, description="The event merged into the case.")


class DraftSource(Contract):
    """A knowledge passage a draft relies on."""

    uri: str
    title: str = ""
    score: float = Field(default=0.0, ge=0.0)


class ResponseDrafted(Event):
    """A reply to the customer, drafted from the ticket and retrieved knowledge, and checked against it."""

    ticket_id: str
    customer_id: str | None = Field(default=None, description="The ticket's customer: whose CRM case gets the draft.")
    draft: str = Field(min_length=1)
    language: str | None = None
    sources: list[DraftSource] = Field(default_factory=list)
    grounded: bool = Field(default=False, description="Every claim of the draft is supported by a source.")
    unsupported_claims: list[str] = Field(default_factory=list)
    unfilled_placeholders: list[str] = Field(default_factory=list, description="What an agent must fill in.")
    suggested_solution: str = Field(default="", description="For the agent: what to do, in one or two lines.")
    for_escalation: bool = Field(default=False, description="Drafted for a human to approve, not to send.")
    model_id: str
    usage: TokenUsage = Field(default_factory=TokenUsage)


class EscalationRequested(Event):
    """A ticket needs a human decision before anything goes to the customer."""

    ticket_id: str
    customer_id: str | None = Field(default=None, description="The ticket's customer, from its TicketAnalyzed.")
    priority: Priority
    reasons: list[str] = Field(min_length=1)


class ApprovalRequested(Event):
    """The agents (or, after a timeout, the supervisor) are asked to decide on an escalated ticket's reply.

    The task token that resumes the escalation stays in the approvals table; it is never in this event.
    """

    ticket_id: str
    priority: Priority
    stage: Literal["agent", "supervisor"]
    draft: str | None = Field(default=None, description="The reply to approve, edit or reject.")
    grounded: bool = False
    requested_at: datetime


class EscalationResolved(Event):
    """A human approved or rejected an escalated ticket (or the approval timed out)."""

    ticket_id: str
    customer_id: str | None = Field(default=None, description="The ticket's customer: whose CRM case gets the outcome.")
    decision: Literal["approved", "rejected", "timed_out", "failed"]
    edited: bool = Field(default=False, description="Approved with the agent's edits.")
    reply: str | None = Field(default=None, description="The approved reply that goes to the customer.")
    supervisor_escalated: bool = False
    decided_by: str | None = None
    comment: str | None = None
    reason: str | None = Field(default=None, description="Why the escalation failed, when it did.")


class NotificationSent(Event):
    """A message went to one audience's SNS topic."""

    audience: Audience
    about_event_id: str = Field(description="The event this notification is about; the idempotency key.")
    topic_arn: str
    message_id: str


# --- feedback flow ---------------------------------------------------------------------------------


class FeedbackReceived(Event):
    """Customer feedback arrived, inline or as a document in the feedback bucket."""

    feedback_id: str = Field(min_length=1, max_length=128)
    source: Literal["api", "s3", "survey"]
    text: str | None = Field(default=None, max_length=MAX_BODY_CHARS)
    document_uri: AnyUrl | None = Field(default=None, description="s3://bucket/key of an uploaded file.")
    rating: int | None = Field(default=None, ge=1, le=5)
    customer_id: str | None = None


class FeedbackAnalyzed(Event):
    """Bedrock Data Automation (or the inline path) extracted what the feedback says."""

    feedback_id: str
    customer_id: str | None = None
    summary: str
    sentiment: SentimentLabel
    sentiment_score: float = Field(default=0.0, ge=-1.0, le=1.0, description="-1 very negative … +1 positive.")
    topics: list[str] = Field(default_factory=list, max_length=10)
    fields: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="A blueprint's extracted fields (custom output), when one ran."
    )
    document_uri: str | None = Field(default=None, description="s3://bucket/key of the document read, if any.")
    output_uri: str | None = Field(default=None, description="The job_metadata.json the results were read from.")


class FeedbackFailed(Event):
    """Feedback that cannot be read: an unsupported or unreadable file, bad input, or a job that failed for good."""

    feedback_id: str
    customer_id: str | None = None
    document_uri: str | None = None
    error: Literal["client", "service", "input"] = Field(description="Whose fault: the file, the service, the input.")
    reason: str = Field(min_length=1, max_length=500, description="One line, never the feedback's text.")


# --- catalog enrichment ----------------------------------------------------------------------------


class CatalogEnrichmentRequested(Event):
    """The nightly schedule (or an operator) asks for the catalog to be enriched."""

    run_id: str = Field(min_length=1, max_length=128)
    catalog_uri: str = Field(description="s3://bucket/prefix holding the catalog items (JSONL).")
    requested_at: datetime | None = None


class RecordError(Contract):
    """One item a model could not enrich: its batch record id, the error's code and one line of why."""

    record_id: str
    item_id: str
    code: str = Field(max_length=64)
    message: str = Field(max_length=300)


class CatalogEnriched(Event):
    """A catalog enrichment run finished: how many items it enriched, through which path, at what cost.

    ``usage.estimated_cost_usd`` prices batch records at the batch discount and records retried on demand
    (after a record-level batch error) at the on-demand price; ``record_errors`` reports those errors.
    """

    run_id: str
    mode: Literal["batch", "on_demand"]
    output_uri: str
    items_enriched: NonNegativeInt
    items_failed: NonNegativeInt
    items_selected: NonNegativeInt = 0
    items_retried: NonNegativeInt = Field(default=0, description="Batch record errors retried on demand.")
    job_arn: str | None = Field(default=None, description="The model invocation job, in batch mode.")
    record_errors: list[RecordError] = Field(default_factory=list, max_length=100)
    usage: TokenUsage = Field(default_factory=TokenUsage)


ALL_EVENTS: tuple[type[Event], ...] = (
    TicketSubmitted,
    TicketAccepted,
    TicketRejected,
    TicketClassified,
    SentimentAnalyzed,
    TicketAnalyzed,
    CrmRecordUpdated,
    ResponseDrafted,
    EscalationRequested,
    ApprovalRequested,
    EscalationResolved,
    NotificationSent,
    FeedbackReceived,
    FeedbackAnalyzed,
    FeedbackFailed,
    CatalogEnrichmentRequested,
    CatalogEnriched,
)


def event_json_schema(event_type: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one event, as exported to ``schemas/json``."""
    schema = event_type.model_json_schema(mode="validation")
    schema["$id"] = f"https://supportflow.dev/schemas/{event_type.detail_type}.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
