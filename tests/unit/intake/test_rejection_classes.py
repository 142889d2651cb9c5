"""Well-formed bus events that break the contract in unusual ways end as a TicketRejected, never in the DLQ."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.bus import BusEvent
from schemas.events import MAX_BODY_CHARS, TicketAccepted, TicketRejected
from workers.intake.logic import IntakeService
from workers.shared.bus_limits import MAX_ENTRY_BYTES, entry_size, event_entry_size, fits_on_bus
from workers.shared.json_depth import TOO_DEEP, cap_json_depth
from workers.shared.publisher import InMemoryPublisher

LoadEvent = Callable[[str], dict[str, Any]]
# One character whose NFKC form is 18 characters ("صلى الله عليه وسلم").
EXPANDING = "\ufdfa"


def process(raw: dict[str, Any]) -> tuple[Any, InMemoryPublisher]:
    """Run intake on a raw bus event the way the worker reads it: body text, depth capped, then parsed."""
    publisher = InMemoryPublisher()
    bus_event = BusEvent.model_validate_json(cap_json_depth(json.dumps(raw)))
    outcome = IntakeService(publisher).process(bus_event)
    assert publisher.published == [outcome]
    assert fits_on_bus(outcome)
    return outcome, publisher


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=300),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ticket_id", 12345),
        ("tenant_id", 7),
        ("correlation_id", None),
        ("correlation_id", {}),
        ("ticket_id", ["T-1"]),
        ("tenant_id", True),
        ("correlation_id", "x" * 5000),
    ],
)
def test_an_identifier_of_the_wrong_type_is_rejected_with_the_field(
    load_event: LoadEvent, field: str, value: object
) -> None:
    # Given a ticket whose identifier has the wrong JSON type
    raw = load_event("TicketSubmitted")
    raw["detail"][field] = value
    # When intake processes it
    outcome, _ = process(raw)
    # Then it is rejected, naming the field, and addressed with whatever identifiers are still usable
    assert isinstance(outcome, TicketRejected)
    assert any(error.startswith(f"{field}:") for error in outcome.errors)
    assert outcome.tenant_id in {"acme", "7", "default"}
    assert outcome.correlation_id in {"T-1001", "12345"}


@settings(max_examples=60, deadline=None)
@given(ticket_id=json_values, correlation_id=json_values, tenant_id=json_values)
def test_the_rejection_path_never_fails_on_any_identifier(
    ticket_id: object, correlation_id: object, tenant_id: object
) -> None:
    # Given identifiers of any JSON type and value (and an invalid body, so the ticket is rejected)
    raw: dict[str, Any] = {
        "id": "0d9f3c52-5d1c-4c5e-9a53-1b1f6c2a0001",
        "detail-type": "TicketSubmitted",
        "source": "helpdesk",
        "time": "2026-11-20T09:15:00Z",
        "detail": {"ticket_id": ticket_id, "correlation_id": correlation_id, "tenant_id": tenant_id, "body": 1},
    }
    # When intake processes it, Then a TicketRejected that fits on the bus is published
    outcome, _ = process(raw)
    assert isinstance(outcome, TicketRejected)


def test_pathologically_nested_attributes_are_rejected(load_event: LoadEvent) -> None:
    # Given attributes nested ten thousand levels deep (deeper than any JSON parser here recurses)
    raw = load_event("TicketSubmitted")
    depth = 10_000
    raw["detail"]["attributes"] = {"order": "DEEP"}
    text = json.dumps(raw).replace('"DEEP"', '{"a": ' * depth + "{}" + "}" * depth)
    # When intake reads and processes it
    publisher = InMemoryPublisher()
    outcome = IntakeService(publisher).process(BusEvent.model_validate_json(cap_json_depth(text)))
    # Then it is rejected for the attributes field
    assert publisher.published == [outcome]
    assert isinstance(outcome, TicketRejected)
    assert outcome.errors == ["attributes.order: Input should be a valid string"]


def test_text_that_outgrows_the_limit_under_normalisation_is_rejected(load_event: LoadEvent) -> None:
    # Given a body within the character limit that NFKC expands eighteen-fold
    raw = load_event("TicketSubmitted")
    raw["detail"]["body"] = EXPANDING * (MAX_BODY_CHARS // 2)
    # When intake processes it
    outcome, _ = process(raw)
    # Then it is rejected with a reason that gives the sizes, not the text
    assert isinstance(outcome, TicketRejected)
    assert outcome.reason.startswith("body is 180000 characters once normalised")


def test_the_largest_acceptable_ticket_fits_on_the_bus(load_event: LoadEvent) -> None:
    # Given a body at the limit once normalised, of four-byte characters and characters JSON escapes
    raw = load_event("TicketSubmitted")
    raw["detail"]["body"] = ("\U0001f600" * 9 + '"') * (MAX_BODY_CHARS // 10)
    raw["detail"]["subject"] = "\U0001f600" * 500
    # When intake processes it, Then it is accepted and the entry is within 256 KB
    outcome, _ = process(raw)
    assert isinstance(outcome, TicketAccepted)
    assert event_entry_size(outcome) < MAX_ENTRY_BYTES


def test_entry_size_counts_as_aws_documents() -> None:
    # Given the fields of an entry, When its size is computed, Then it is 14 for Time plus the UTF-8 bytes
    assert entry_size('{"a":"é"}', "T", "src", ["arn:x"]) == 14 + 3 + 1 + len('{"a":"é"}'.encode()) + 5
    assert entry_size("{}", "T", "s", timed=False) == 4


def test_cap_json_depth_keeps_shallow_documents_and_strings_intact() -> None:
    # Given documents within the depth, and brackets inside strings
    shallow = json.dumps({"a": [1, {"b": "[[[{{{"}]})
    # When capped, Then they are unchanged; a deep one is cut at the depth and still parses
    assert cap_json_depth(shallow, max_depth=3) == shallow
    assert json.loads(cap_json_depth(json.dumps(nested(5)), max_depth=2)) == {"a": {"a": TOO_DEEP}}


def test_a_customer_id_that_is_an_email_is_redacted_in_the_accepted_ticket(load_event: LoadEvent) -> None:
    # Given a ticket whose customer id is the customer's email address
    raw = load_event("TicketSubmitted")
    raw["detail"]["customer"]["customer_id"] = "josé.müller@exämple.de"
    # When intake accepts it
    outcome, _ = process(raw)
    # Then the accepted ticket carries a placeholder, counted, and the address nowhere
    assert isinstance(outcome, TicketAccepted)
    assert outcome.customer_id == "[EMAIL]" and outcome.redactions["email"] == 1
    assert "exämple" not in outcome.model_dump_json()


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [("correlation_id", "dana.fox@example.com", "email"), ("ticket_id", "07700900123", "phone")],
)
def test_a_flow_identifier_that_is_personal_data_is_rejected_without_echoing_it(
    load_event: LoadEvent, field: str, value: str, kind: str
) -> None:
    # Given a ticket whose flow identifier is an email address or a phone number
    raw = load_event("TicketSubmitted")
    raw["detail"][field] = value
    # When intake processes it
    outcome, _ = process(raw)
    # Then it is rejected for that reason, and the rejection does not carry the value
    assert isinstance(outcome, TicketRejected)
    assert outcome.reason == f"{field} is personal data ({kind}); send an opaque id instead"
    assert value not in outcome.model_dump_json()


def test_validation_errors_in_a_rejection_are_redacted(load_event: LoadEvent) -> None:
    # Given attributes keyed by an email address (pydantic names the key in the error's location)
    raw = load_event("TicketSubmitted")
    raw["detail"]["attributes"] = {"dana.fox@example.com": 1}
    # When intake rejects it, Then the error keeps its message with the address replaced
    outcome, _ = process(raw)
    assert isinstance(outcome, TicketRejected)
    assert outcome.errors == ["[EMAIL]: Input should be a valid string"]
