"""Every sample in events/ parses into its contract, and the exported JSON Schemas are current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from schemas import ALL_EVENTS, BusEvent, Event, TicketAccepted, TicketSubmitted
from schemas.envelope import derived_event_id
from schemas.export import JSON_DIR, render_schemas

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "events").glob("*.json"))
TICKET_SAMPLES = sorted((ROOT / "events" / "tickets").glob("T-*.json"))


def test_every_event_has_exactly_one_sample() -> None:
    assert sorted(path.stem for path in SAMPLES) == sorted(event.detail_type for event in ALL_EVENTS)


@pytest.mark.parametrize("event_type", ALL_EVENTS, ids=lambda event: event.detail_type)
def test_sample_parses_into_its_contract(event_type: type[Event]) -> None:
    bus_event = BusEvent.model_validate_json((ROOT / "events" / f"{event_type.detail_type}.json").read_text())
    parsed = bus_event.parse_detail(event_type)
    assert parsed.event_id == bus_event.id
    # Round trip: what we publish is what we parse.
    assert event_type.model_validate_json(parsed.model_dump_json()) == parsed


def test_json_schemas_are_current() -> None:
    rendered = render_schemas()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in JSON_DIR.glob("*.json")}
    stale = sorted(name for name in rendered.keys() | on_disk.keys() if rendered.get(name) != on_disk.get(name))
    assert not stale, f"run `make schemas`: stale or missing {stale}"


def _submitted_detail(**changes: Any) -> dict[str, Any]:
    """The TicketSubmitted sample's detail with top-level fields replaced (``None`` removes one)."""
    detail: dict[str, Any] = json.loads((ROOT / "events" / "TicketSubmitted.json").read_text())["detail"]
    for key, value in changes.items():
        if value is None:
            detail.pop(key)
        else:
            detail[key] = value
    return detail


def _submitted_schema() -> jsonschema_rs.Validator:
    schema = json.loads((JSON_DIR / "TicketSubmitted.json").read_text())
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def test_json_schema_accepts_the_sample_the_model_accepts() -> None:
    # Given the TicketSubmitted sample, which the model parses
    detail = _submitted_detail()
    TicketSubmitted.model_validate(detail)
    # Then the exported JSON Schema accepts it too
    assert list(_submitted_schema().iter_errors(detail)) == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"ticket_id": None}, id="missing-ticket-id"),
        pytest.param({"extra": 1}, id="unknown-field"),
        pytest.param({"ticket_id": 1001}, id="number-for-a-string-id"),
        pytest.param({"ticket_id": "T 1"}, id="id-off-pattern"),
        pytest.param({"body": ""}, id="empty-body"),
        pytest.param({"subject": "x" * 501}, id="subject-too-long"),
        pytest.param({"channel": "fax"}, id="unknown-channel"),
        pytest.param({"tenant_id": "a b"}, id="tenant-off-pattern"),
        pytest.param({"occurred_at": "yesterday"}, id="not-a-date-time"),
        pytest.param({"customer": {"email": "a@b.c"}}, id="customer-without-id"),
        pytest.param({"customer": {"customer_id": "C-1", "tier": "gold"}}, id="unknown-tier"),
        pytest.param({"attributes": {"k": 1}}, id="attribute-not-a-string"),
        pytest.param({"attributes": {f"k{i}": "v" for i in range(51)}}, id="too-many-attributes"),
        pytest.param({"attributes": {"k" * 65: "v"}}, id="attribute-key-too-long"),
    ],
)
def test_json_schema_rejects_what_the_model_rejects(changes: dict[str, Any]) -> None:
    # Given the sample with one field made invalid, which the model refuses
    detail = _submitted_detail(**changes)
    with pytest.raises(ValidationError):
        TicketSubmitted.model_validate(detail)
    # Then the exported JSON Schema refuses it too (what producers validate against agrees with the worker)
    assert list(_submitted_schema().iter_errors(detail)) != []


@pytest.mark.parametrize("path", TICKET_SAMPLES, ids=lambda path: path.stem)
def test_ticket_samples_are_bus_events_of_ticket_submitted(path: Path) -> None:
    bus_event = BusEvent.model_validate_json(path.read_text())
    assert bus_event.detail_type == "TicketSubmitted"
    if "invalid" in path.stem:
        with pytest.raises(ValidationError):
            bus_event.parse_detail(TicketSubmitted)
    else:
        bus_event.parse_detail(TicketSubmitted)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("URGENT", "high"), ("p1", "high"), ("Medium", "normal"), ("P3", "low"), ("", None), (None, None)],
)
def test_upstream_priority_dialects_are_normalised(given: str | None, expected: str | None) -> None:
    ticket = TicketSubmitted(
        ticket_id="T-1", correlation_id="T-1", customer={"customer_id": "C-1"}, body="hello", priority=given
    )
    assert ticket.priority == expected


def test_unknown_priority_is_rejected_with_the_field_named() -> None:
    with pytest.raises(ValidationError) as error:
        TicketSubmitted(ticket_id="T-1", correlation_id="T-1", customer={"customer_id": "C-1"}, body="x", priority="9")
    assert error.value.errors()[0]["loc"] == ("priority",)


def test_follow_up_keeps_the_flow_and_derives_a_stable_id() -> None:
    submitted = TicketSubmitted(
        ticket_id="T-1", correlation_id="T-1", tenant_id="acme", customer={"customer_id": "C-1"}, body="hi"
    )
    fields = {
        "ticket_id": "T-1",
        "channel": "api",
        "customer_id": "C-1",
        "customer_tier": "standard",
        "subject": "",
        "body": "hi",
        "priority": "normal",
        "priority_source": "derived",
        "language": "en",
    }
    first = submitted.follow_up(TicketAccepted, **fields)
    again = submitted.follow_up(TicketAccepted, **fields)
    assert (first.correlation_id, first.tenant_id) == ("T-1", "acme")
    assert first.event_id == again.event_id == derived_event_id(submitted.event_id, "TicketAccepted")
    assert first.event_id != submitted.event_id


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        TicketSubmitted.model_validate(
            {"ticket_id": "T-1", "correlation_id": "T-1", "customer": {"customer_id": "C-1"}, "body": "x", "extra": 1}
        )
