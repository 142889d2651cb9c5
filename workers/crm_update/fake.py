"""An in-memory CRM with the mock CRM's rules (one case per ticket, versions, 412): the fake of the port."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from workers.crm_update.port import CaseRecord, CrmRejected, CrmUnavailable, CustomerNotFound, VersionConflict


@dataclass
class InMemoryCrm:
    """Customers and cases in dicts; ``outage`` calls fail as unavailable, ``reject`` as a 4xx."""

    customers: dict[str, str] = field(default_factory=dict)
    cases: dict[str, CaseRecord] = field(default_factory=dict)
    outage: int = 0
    reject: CrmRejected | None = None
    calls: int = 0

    def _call(self) -> None:
        self.calls += 1
        if self.reject is not None:
            raise self.reject
        if self.outage:
            self.outage -= 1
            raise CrmUnavailable("CRM answered 503")

    def create_customer(self, customer_id: str, tier: str) -> None:
        """Create the customer if missing."""
        self._call()
        self.customers.setdefault(customer_id, tier)

    def open_case(self, customer_id: str, ticket_id: str, fields: dict[str, Any], note: str) -> tuple[CaseRecord, bool]:
        """The ticket's case, created once."""
        self._call()
        if customer_id not in self.customers:
            raise CustomerNotFound(404, "not_found")
        case_id = "case-" + uuid.uuid5(uuid.NAMESPACE_URL, f"{customer_id}/{ticket_id}").hex[:20]
        if case_id in self.cases:
            return self.cases[case_id], False
        case = CaseRecord(
            case_id=case_id, customer_id=customer_id, ticket_id=ticket_id, version=1, notes=[note], **fields
        )
        self.cases[case_id] = case
        return case, True

    def get_case(self, case_id: str) -> CaseRecord:
        """The stored case."""
        self._call()
        return self.cases[case_id]

    def update_case(self, case_id: str, version: int, changes: dict[str, Any], note: str) -> CaseRecord:
        """Apply the changes under the version."""
        self._call()
        current = self.cases[case_id]
        if current.version != version:
            raise VersionConflict(case_id)
        updated = current.model_copy(update={**changes, "version": version + 1, "notes": [*current.notes, note]})
        self.cases[case_id] = updated
        return updated
