"""The run's ticket generator: seeded, realistic, and always carrying the crafted cases."""

from __future__ import annotations

from schemas.events import TicketSubmitted
from supportflow.local.run.tickets import TIERS, generate_tickets


def _contents(seed: int) -> list[tuple[str, str, str, object]]:
    tickets = generate_tickets(60, seed=seed, run_tag="unit")
    return [
        (t.ticket_id, t.kind, t.event["detail"]["customer"].get("tier", ""), t.event["detail"].get("body"))
        for t in tickets
    ]


def test_the_same_seed_gives_the_same_tickets_and_another_seed_others() -> None:
    # Given two generations with one seed and one with another, When compared, Then only the seed changes them
    assert _contents(3) == _contents(3)
    assert _contents(3) != _contents(4)


def test_tickets_cover_every_tier_several_languages_pii_and_both_corpora() -> None:
    # Given a default-sized run
    tickets = generate_tickets(36, seed=7, run_tag="unit")
    # Then it spans the tiers, languages beyond English, PII and texts from both data sets
    assert {t.tier for t in tickets} >= set(TIERS)
    assert len({t.language for t in tickets}) >= 3
    assert any(t.has_pii for t in tickets)
    assert {"bitext", "banking77"} <= {t.kind for t in tickets}
    assert len({t.ticket_id for t in tickets}) == 36


def test_the_crafted_cases_are_always_there_and_only_the_malformed_one_is_invalid() -> None:
    # Given even a tiny run
    tickets = generate_tickets(2, seed=1, run_tag="unit")
    kinds = {t.kind: t for t in tickets}
    # Then the four crafted tickets are in it
    assert set(kinds) == {"crafted-angry-critical", "crafted-legal-threat", "crafted-japanese", "crafted-malformed"}
    assert kinds["crafted-japanese"].language == "ja"
    # And every ticket but the malformed one is a valid TicketSubmitted, which is expected to be rejected
    for ticket in tickets:
        valid = _is_valid(ticket.event["detail"])
        assert valid == (ticket.kind != "crafted-malformed")
        assert ticket.expected == ("accepted" if valid else "rejected")


def test_every_drawn_ticket_is_a_valid_submission() -> None:
    # Given a larger run, Then every ticket except the malformed one parses as the contract
    for ticket in generate_tickets(120, seed=11, run_tag="unit"):
        if ticket.kind != "crafted-malformed":
            assert _is_valid(ticket.event["detail"]), ticket.kind


def _is_valid(detail: dict[str, object]) -> bool:
    try:
        TicketSubmitted.model_validate(detail)
    except ValueError:
        return False
    return True
