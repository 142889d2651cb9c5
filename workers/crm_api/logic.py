"""The CRM's rules: create or replace customers, one case per ticket, every change under an expected version."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from workers.crm_api.models import Case, CaseIn, CaseList, CasePatch, Customer, CustomerIn
from workers.crm_api.store import CrmStore, WriteConflict

# Case ids are derived from (customer, ticket): creating the case for a ticket twice finds the first.
_CASE_NAMESPACE = uuid.UUID("6f1c9d1e-5b7a-4c1e-9a51-2f0c3e8d7a10")
MAX_NOTES = 100


class CrmError(Exception):
    """A domain failure the API answers with a status and a stable code."""

    status = 400
    code = "bad_request"


class NotFound(CrmError):
    """No such customer or case."""

    status = 404
    code = "not_found"


class PreconditionRequired(CrmError):
    """A change to an existing record was sent without If-Match."""

    status = 428
    code = "precondition_required"


class VersionMismatch(CrmError):
    """If-Match named a version that is no longer (or not yet) the stored one."""

    status = 412
    code = "version_mismatch"


class TooManyNotes(CrmError):
    """A case holds at most MAX_NOTES notes."""

    status = 409
    code = "too_many_notes"


def _case_from(
    body: CaseIn,
    case_id: str,
    customer_id: str,
    ticket_id: str,
    *,
    version: int,
    created_at: datetime,
    updated_at: datetime,
) -> Case:
    fields = body.model_dump()
    fields["escalated"] = bool(fields["escalated"])
    return Case(
        case_id=case_id,
        customer_id=customer_id,
        ticket_id=ticket_id,
        version=version,
        created_at=created_at,
        updated_at=updated_at,
        **fields,
    )


def case_id_for(customer_id: str, ticket_id: str) -> str:
    """The one case id of a (customer, ticket) pair."""
    return "case-" + uuid.uuid5(_CASE_NAMESPACE, f"{customer_id}\x1f{ticket_id}").hex[:20]


def parse_if_match(header: str | None) -> int | None:
    """The version in ``If-Match: "7"`` (weak or bare accepted); None when absent; VersionMismatch if unreadable."""
    if header is None or not header.strip():
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise VersionMismatch("If-Match must carry the ETag of the record (a version number)")
    return int(value)


def etag(version: int) -> str:
    """The ETag header value of a version."""
    return f'"{version}"'


class CrmService:
    """Customers and cases over a store port; the clock is injectable for tests."""

    def __init__(self, store: CrmStore, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    def get_customer(self, customer_id: str) -> Customer:
        """The customer, or NotFound."""
        customer = self._store.get_customer(customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found")
        return customer

    def put_customer(self, customer_id: str, body: CustomerIn, if_match: int | None) -> tuple[Customer, bool]:
        """Create (no If-Match, none stored) or replace (If-Match = stored version); return it and created?."""
        current = self._store.get_customer(customer_id)
        now = self._clock()
        if current is None:
            if if_match is not None:
                raise VersionMismatch(f"customer {customer_id} does not exist; send no If-Match to create it")
            customer = Customer(customer_id=customer_id, version=1, created_at=now, updated_at=now, **body.model_dump())
            self._save_customer(customer, None)
            return customer, True
        self._require_version(current.version, if_match, f"customer {customer_id}")
        customer = Customer(
            customer_id=customer_id,
            version=current.version + 1,
            created_at=current.created_at,
            updated_at=now,
            **body.model_dump(),
        )
        self._save_customer(customer, current.version)
        return customer, False

    def put_case(self, customer_id: str, ticket_id: str, body: CaseIn, if_match: int | None) -> tuple[Case, bool]:
        """The case of a ticket: created once; sent again without If-Match, the stored case is returned as is."""
        self.get_customer(customer_id)
        case_id = case_id_for(customer_id, ticket_id)
        current = self._store.get_case(case_id)
        now = self._clock()
        if current is None:
            if if_match is not None:
                raise VersionMismatch(f"case for ticket {ticket_id} does not exist; send no If-Match to create it")
            case = _case_from(body, case_id, customer_id, ticket_id, version=1, created_at=now, updated_at=now)
            try:
                self._store.save_case(case, None)
            except WriteConflict:
                # A concurrent retry created it first: theirs is the case.
                return self._existing_case(case_id), False
            return case, True
        if if_match is None:
            # A retried create: the same ticket never opens a second case.
            return current, False
        self._require_version(current.version, if_match, f"case {case_id}")
        replaced = _case_from(
            body,
            case_id,
            customer_id,
            ticket_id,
            version=current.version + 1,
            created_at=current.created_at,
            updated_at=now,
        )
        self._save_case(replaced, current.version)
        return replaced, False

    def get_case(self, case_id: str) -> Case:
        """The case, or NotFound."""
        return self._existing_case(case_id)

    def patch_case(self, case_id: str, patch: CasePatch, if_match: int | None) -> Case:
        """Change the given fields and append notes, under If-Match (required)."""
        current = self._existing_case(case_id)
        self._require_version(current.version, if_match, f"case {case_id}")
        changes = patch.model_dump(exclude_none=True, exclude={"add_notes"})
        notes = [*current.notes, *patch.add_notes]
        if len(notes) > MAX_NOTES:
            raise TooManyNotes(f"case {case_id} would hold {len(notes)} notes; at most {MAX_NOTES}")
        updated = Case.model_validate(
            {
                **current.model_dump(),
                **changes,
                "notes": notes,
                "version": current.version + 1,
                "updated_at": self._clock(),
            }
        )
        self._save_case(updated, current.version)
        return updated

    def list_cases(self, customer_id: str) -> CaseList:
        """Every case of an existing customer."""
        self.get_customer(customer_id)
        return CaseList(customer_id=customer_id, cases=self._store.list_cases(customer_id))

    def _existing_case(self, case_id: str) -> Case:
        case = self._store.get_case(case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    @staticmethod
    def _require_version(stored: int, if_match: int | None, what: str) -> None:
        if if_match is None:
            raise PreconditionRequired(f"{what} exists: send If-Match with its ETag to change it")
        if if_match != stored:
            raise VersionMismatch(f"{what} is at version {stored}, not {if_match}: read it again and retry")

    def _save_customer(self, customer: Customer, expected: int | None) -> None:
        try:
            self._store.save_customer(customer, expected)
        except WriteConflict as error:
            raise VersionMismatch(f"customer {customer.customer_id} changed meanwhile: read it again") from error

    def _save_case(self, case: Case, expected: int | None) -> None:
        try:
            self._store.save_case(case, expected)
        except WriteConflict as error:
            raise VersionMismatch(f"case {case.case_id} changed meanwhile: read it again") from error
