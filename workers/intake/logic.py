"""Intake's rules: validate, normalise, redact, settle priority; accept or reject. No AWS in here."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import ValidationError

from schemas.bus import BusEvent
from schemas.envelope import Event, derived_event_id
from schemas.errors import validation_messages
from schemas.events import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, TicketAccepted, TicketRejected, TicketSubmitted
from workers.intake.priority import settle_priority
from workers.intake.redaction import identifier_pii, phone_regions, redact_pii
from workers.shared.bus_limits import EntryTooLarge, ensure_fits_on_bus, fits_on_bus
from workers.shared.language import detect_language
from workers.shared.publisher import EventPublisher

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_MAX_ERRORS = 20
_MAX_ERROR_CHARS = 300
_MAX_REASON_CHARS = 500
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_TENANT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_UNADDRESSED = "unaddressed"


class TicketRefused(ValueError):
    """A valid-looking ticket intake will not accept; the message is the reason the sender reads."""


class EmptyTicket(TicketRefused):
    """A ticket with nothing left to work on."""


class TicketTooLarge(TicketRefused):
    """A ticket whose text outgrows a limit once normalised (NFKC can expand a character ~18x)."""


class PersonalIdentifier(TicketRefused):
    """An identifier that carries the flow is itself personal data (an email or phone number)."""


def _salvaged(value: object, shape: re.Pattern[str]) -> str | None:
    """An identifier of any JSON type as a string of ``shape``, or None: never raises."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if not shape.fullmatch(text) or identifier_pii(text) is not None:
        return None
    return text


def normalise_text(text: str) -> str:
    """NFKC, no control characters, single spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    # Zero-width and other format characters carry nothing and hide emptiness from validation.
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _check_length(field: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise TicketTooLarge(f"{field} is {len(text)} characters once normalised; the limit is {limit}")


def accept_ticket(submitted: TicketSubmitted) -> TicketAccepted:
    """Turn a valid submission into the redacted, prioritised ticket the pipeline works on."""
    regions = phone_regions(submitted.attributes.get("country"), submitted.language)
    for field, value in (("ticket_id", submitted.ticket_id), ("correlation_id", submitted.correlation_id)):
        kind = identifier_pii(value, regions)
        if kind is not None:
            raise PersonalIdentifier(f"{field} is personal data ({kind}); send an opaque id instead")
    # Limits hold for the text as the pipeline sees it: after normalisation, which can lengthen it.
    subject_text = normalise_text(submitted.subject)
    body_text = normalise_text(submitted.body)
    _check_length("subject", subject_text, MAX_SUBJECT_CHARS)
    _check_length("body", body_text, MAX_BODY_CHARS)
    subject = redact_pii(subject_text, regions)
    body = redact_pii(body_text, regions)
    customer = redact_pii(submitted.customer.customer_id, regions)
    if not body.text:
        raise EmptyTicket("the body is empty once normalised")
    redactions: dict[str, int] = {}
    for counts in (subject.counts, body.counts, customer.counts):
        for kind, count in counts.items():
            redactions[kind] = redactions.get(kind, 0) + count
    # Priority and language read the redacted text: nothing downstream of redaction sees PII.
    content = f"{subject.text}\n{body.text}"
    decision = settle_priority(submitted.priority, content, submitted.customer.tier)
    language = submitted.language or detect_language(content)
    accepted = submitted.follow_up(
        TicketAccepted,
        ticket_id=submitted.ticket_id,
        channel=submitted.channel,
        customer_id=customer.text,
        customer_tier=submitted.customer.tier,
        subject=subject.text,
        body=body.text,
        priority=decision.priority,
        priority_source=decision.source,
        priority_reasons=list(decision.reasons),
        language=language,
        redactions=redactions,
    )
    try:
        ensure_fits_on_bus(accepted)
    except EntryTooLarge as error:
        raise TicketTooLarge(str(error)) from error
    return accepted


def _safe_messages(messages: list[str]) -> list[str]:
    """Error lines cut to size and redacted: a dict key or a loc can carry what the sender typed."""
    return [redact_pii(message[:_MAX_ERROR_CHARS]).text for message in messages[:_MAX_ERRORS]]


def reject_ticket(bus_event: BusEvent, reason: str, errors: list[str]) -> TicketRejected:
    """A rejection addressed with whatever identifiers the invalid ticket still carries; never raises on them."""
    detail: dict[str, Any] = bus_event.detail if isinstance(bus_event.detail, dict) else {}
    ticket_id = _salvaged(detail.get("ticket_id"), _ID)
    correlation_id = (
        _salvaged(detail.get("correlation_id"), _ID) or ticket_id or bus_event.id.strip()[:128] or _UNADDRESSED
    )
    rejected = TicketRejected(
        event_id=derived_event_id(bus_event.id, TicketRejected.detail_type),
        correlation_id=correlation_id,
        tenant_id=_salvaged(detail.get("tenant_id"), _TENANT) or "default",
        ticket_id=ticket_id,
        reason=reason[:_MAX_REASON_CHARS],
        errors=_safe_messages(errors),
    )
    # The caps above keep a rejection far below the entry limit; this keeps it there if they change.
    if not fits_on_bus(rejected):
        rejected = rejected.model_copy(update={"errors": []})
    return rejected


class IntakeService:
    """Accepts or rejects each submitted ticket and publishes the outcome."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def process(self, bus_event: BusEvent) -> Event:
        """Publish TicketAccepted or TicketRejected for one bus event; raise on wiring faults."""
        # A wiring fault (the runtime's reader checks this first): the record fails, it is no bad ticket.
        bus_event.expect(TicketSubmitted)
        outcome: Event
        try:
            submitted = TicketSubmitted.from_detail(bus_event.detail)
            outcome = accept_ticket(submitted)
        except ValidationError as error:
            outcome = reject_ticket(bus_event, "invalid TicketSubmitted", validation_messages(error))
        except TicketRefused as error:
            outcome = reject_ticket(bus_event, str(error), [])
        self._publisher.publish([outcome])
        return outcome
