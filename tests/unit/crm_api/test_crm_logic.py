"""The CRM's rules on the in-memory store: versions, one case per ticket, the errors the API maps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workers.crm_api.logic import (
    MAX_NOTES,
    CrmService,
    NotFound,
    PreconditionRequired,
    TooManyNotes,
    VersionMismatch,
    case_id_for,
    parse_if_match,
)
from workers.crm_api.models import CaseIn, CasePatch, CustomerIn
from workers.crm_api.store import InMemoryCrmStore, WriteConflict


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def store() -> InMemoryCrmStore:
    return InMemoryCrmStore()


@pytest.fixture
def crm(store: InMemoryCrmStore) -> CrmService:
    service = CrmService(store, clock=_Clock())
    service.put_customer("cust-1", CustomerIn(name="Ada", tier="premium"), None)
    return service


def test_a_new_customer_is_created_at_version_1() -> None:
    # Given an empty CRM, When a customer is put without If-Match
    customer, created = CrmService(InMemoryCrmStore()).put_customer("c-9", CustomerIn(name="Bo"), None)
    # Then it is created at version 1
    assert created
    assert (customer.customer_id, customer.version, customer.tier) == ("c-9", 1, "standard")


def test_replacing_a_customer_needs_its_current_version(crm: CrmService) -> None:
    # Given a customer at version 1
    # When it is put without If-Match, Then 428; with a stale version, Then 412
    with pytest.raises(PreconditionRequired):
        crm.put_customer("cust-1", CustomerIn(name="Ada L."), None)
    with pytest.raises(VersionMismatch):
        crm.put_customer("cust-1", CustomerIn(name="Ada L."), 7)
    # When it is put with If-Match 1, Then it is replaced at version 2, created_at kept
    before = crm.get_customer("cust-1")
    customer, created = crm.put_customer("cust-1", CustomerIn(name="Ada L."), 1)
    assert not created
    assert (customer.name, customer.version, customer.tier) == ("Ada L.", 2, "standard")
    assert customer.created_at == before.created_at
    assert customer.updated_at > before.updated_at


def test_creating_the_case_of_a_ticket_twice_yields_one_case(crm: CrmService, store: InMemoryCrmStore) -> None:
    # Given a case created for ticket T-1
    first, created_first = crm.put_case("cust-1", "T-1", CaseIn(subject="Refund", priority="high"), None)
    # When the same create is retried (even with different fields)
    again, created_again = crm.put_case("cust-1", "T-1", CaseIn(subject="other"), None)
    # Then the CRM holds one case, returned unchanged
    assert created_first
    assert not created_again
    assert again == first
    assert len(store.cases) == 1
    assert first.case_id == case_id_for("cust-1", "T-1")


def test_a_concurrent_create_returns_the_winner(store: InMemoryCrmStore) -> None:
    # Given a store where another request created the case between our read and our write
    crm = CrmService(store)
    crm.put_customer("c", CustomerIn(name="C"), None)

    class RacingStore(InMemoryCrmStore):
        def __init__(self) -> None:
            super().__init__()
            self.customers = store.customers

        def save_case(self, case, expected_version):  # type: ignore[no-untyped-def]
            if not self.cases:
                super().save_case(case.model_copy(update={"subject": "theirs"}), None)
            super().save_case(case, expected_version)

    racing = RacingStore()
    # When we create the case, Then theirs is answered, and it is not counted as created
    case, created = CrmService(racing).put_case("c", "T", CaseIn(subject="ours"), None)
    assert (case.subject, created) == ("theirs", False)
    assert len(racing.cases) == 1


def test_a_case_needs_an_existing_customer(crm: CrmService) -> None:
    # Given no customer "ghost", When a case is put for it, Then NotFound
    with pytest.raises(NotFound):
        crm.put_case("ghost", "T-1", CaseIn(), None)


def test_patch_changes_fields_appends_notes_and_bumps_the_version(crm: CrmService) -> None:
    # Given a case at version 1
    case, _ = crm.put_case("cust-1", "T-2", CaseIn(subject="Card lost", notes=["opened"]), None)
    # When it is patched under If-Match 1
    patched = crm.patch_case(case.case_id, CasePatch(status="escalated", escalated=True, add_notes=["angry"]), 1)
    # Then only the given fields change, the note is appended, the version is 2
    assert (patched.status, patched.escalated, patched.subject) == ("escalated", True, "Card lost")
    assert patched.notes == ["opened", "angry"]
    assert patched.version == 2
    assert crm.get_case(case.case_id) == patched


def test_patch_without_or_with_a_stale_version_is_refused(crm: CrmService) -> None:
    # Given a case patched once (version 2)
    case, _ = crm.put_case("cust-1", "T-3", CaseIn(), None)
    crm.patch_case(case.case_id, CasePatch(status="pending"), 1)
    # When patched without If-Match, Then 428; with the old version, Then 412 and nothing changes
    with pytest.raises(PreconditionRequired):
        crm.patch_case(case.case_id, CasePatch(status="closed"), None)
    with pytest.raises(VersionMismatch):
        crm.patch_case(case.case_id, CasePatch(status="closed"), 1)
    assert crm.get_case(case.case_id).status == "pending"


def test_a_lost_race_on_write_is_a_version_mismatch(
    crm: CrmService, store: InMemoryCrmStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store that refuses the write as if another writer got there first
    case, _ = crm.put_case("cust-1", "T-4", CaseIn(), None)

    def refuse(*_: object) -> None:
        raise WriteConflict

    monkeypatch.setattr(store, "save_case", refuse)
    # When the case is patched with the version we read, Then 412
    with pytest.raises(VersionMismatch):
        crm.patch_case(case.case_id, CasePatch(status="pending"), 1)


def test_replacing_a_case_under_if_match_resets_what_is_not_sent(crm: CrmService) -> None:
    # Given a case with a priority and an intent
    case, _ = crm.put_case("cust-1", "T-5", CaseIn(priority="high", intent="refund"), None)
    # When it is put again under If-Match with only an intent
    replaced, created = crm.put_case("cust-1", "T-5", CaseIn(intent="cancel_order"), 1)
    # Then it is replaced (PUT semantics): same id and creation time, version 2
    assert not created
    assert (replaced.case_id, replaced.intent, replaced.priority, replaced.version) == (
        case.case_id,
        "cancel_order",
        None,
        2,
    )
    assert replaced.created_at == case.created_at


def test_cases_are_listed_per_customer_oldest_first(crm: CrmService) -> None:
    # Given two cases of cust-1 and one of another customer
    crm.put_customer("cust-2", CustomerIn(name="Bo"), None)
    first, _ = crm.put_case("cust-1", "A", CaseIn(), None)
    second, _ = crm.put_case("cust-1", "B", CaseIn(), None)
    crm.put_case("cust-2", "C", CaseIn(), None)
    # When cust-1's cases are listed, Then exactly its two, oldest first
    assert [c.case_id for c in crm.list_cases("cust-1").cases] == [first.case_id, second.case_id]


def test_notes_are_bounded(crm: CrmService) -> None:
    # Given a case holding MAX_NOTES notes
    case, _ = crm.put_case("cust-1", "T-6", CaseIn(notes=["n"] * 50), None)
    case = crm.patch_case(case.case_id, CasePatch(add_notes=["n"] * (MAX_NOTES - 50)), 1)
    # When one more is appended, Then it is refused
    with pytest.raises(TooManyNotes):
        crm.patch_case(case.case_id, CasePatch(add_notes=["one too many"]), case.version)


@pytest.mark.parametrize(("header", "version"), [(None, None), ("", None), ('"3"', 3), ('W/"4"', 4), ("5", 5)])
def test_if_match_is_read_as_a_version(header: str | None, version: int | None) -> None:
    assert parse_if_match(header) == version


def test_an_unreadable_if_match_is_a_mismatch() -> None:
    with pytest.raises(VersionMismatch):
        parse_if_match('"abc"')
