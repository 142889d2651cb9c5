"""Intake's rules: validate, normalise, redact, settle priority; accept or reject. No AWS in here."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.bus import BusEvent
from schemas.envelope import Event, derived_event_id
from schemas.errors import validation_messages
from schemas.events import TicketAccepted, TicketRejected, TicketSubmitted
from workers.intake.priority import settle_priority
from workers.intake.redaction import redact_pii
from workers.shared.language import detect_language
from workers.shared.publisher import EventPublisher

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_MAX_ERRORS = 20
_TENANT = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class MisroutedEvent(ValueError):
    """Intake was handed something that is not a TicketSubmitted: a wiring fault, so the record fails."""


class EmptyTicket(ValueError):
    """A ticket with nothing left to work on."""


class _Identifiers(BaseModel):
    """What we can still salvage from an invalid ticket to address the rejection."""

    model_config = ConfigDict(extra="ignore")

    ticket_id: str | None = None
    correlation_id: str | None = None
    tenant_id: str | None = None


def normalise_text(text: str) -> str:
    """NFKC, no control characters, single spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    # Zero-width and other format characters carry nothing and hide emptiness from validation.
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def accept_ticket(submitted: TicketSubmitted) -> TicketAccepted:
    """Turn a valid submission into the redacted, prioritised ticket the pipeline works on."""
    subject = redact_pii(normalise_text(submitted.subject))
    body = redact_pii(normalise_text(submitted.body))
    if not body.text:
        raise EmptyTicket("the body is empty once normalised")
    redactions = dict(subject.counts)
    for kind, count in body.counts.items():
        redactions[kind] = redactions.get(kind, 0) + count
    # Priority and language read the redacted text: nothing downstream of redaction sees PII.
    content = f"{subject.text}\n{body.text}"
    decision = settle_priority(submitted.priority, content, submitted.customer.tier)
    language = submitted.language or detect_language(content)
    return submitted.follow_up(
        TicketAccepted,
        ticket_id=submitted.ticket_id,
        channel=submitted.channel,
        customer_id=submitted.customer.customer_id,
        customer_tier=submitted.customer.tier,
        subject=subject.text,
        body=body.text,
        priority=decision.priority,
        priority_source=decision.source,
        priority_reasons=list(decision.reasons),
        language=language,
        redactions=redactions,
    )


def reject_ticket(bus_event: BusEvent, reason: str, errors: list[str]) -> TicketRejected:
    """A rejection addressed with whatever identifiers the invalid ticket still carries."""
    ids = _Identifiers.model_validate(bus_event.detail)
    correlation_id = ids.correlation_id or ids.ticket_id or bus_event.id
    return TicketRejected(
        event_id=derived_event_id(bus_event.id, TicketRejected.detail_type),
        correlation_id=correlation_id[:128],
        tenant_id=ids.tenant_id if ids.tenant_id and _TENANT.fullmatch(ids.tenant_id) else "default",
        ticket_id=ids.ticket_id,
        reason=reason,
        errors=errors[:_MAX_ERRORS],
    )


class IntakeService:
    """Accepts or rejects each submitted ticket and publishes the outcome."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def process(self, bus_event: BusEvent) -> Event:
        """Publish TicketAccepted or TicketRejected for one bus event; raise on wiring faults."""
        if bus_event.detail_type != TicketSubmitted.detail_type:
            raise MisroutedEvent(f"intake consumes TicketSubmitted, got {bus_event.detail_type!r}")
        outcome: Event
        try:
            submitted = TicketSubmitted.from_detail(bus_event.detail)
            outcome = accept_ticket(submitted)
        except ValidationError as error:
            outcome = reject_ticket(bus_event, "invalid TicketSubmitted", validation_messages(error))
        except EmptyTicket as error:
            outcome = reject_ticket(bus_event, str(error), [])
        self._publisher.publish([outcome])
        return outcome
