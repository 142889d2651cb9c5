"""The CRM port: what the CRM update worker needs of any CRM, the errors it answers with, and a case's shape."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

# The case fields a ticket event may set; a PATCH sends only those that differ.
CASE_FIELDS = ("subject", "status", "priority", "intent", "category", "sentiment", "summary", "escalated")


class CrmUnavailable(RuntimeError):
    """Timeout, connection failure, 5xx or 429: retried with backoff, then left to SQS."""


class CrmRejected(RuntimeError):
    """A 4xx with a reason: retrying cannot help; the record fails until the DLQ takes it."""

    def __init__(self, status: int, code: str) -> None:
        self.status = status
        self.code = code
        super().__init__(f"CRM rejected the request: {status} {code}")


class CustomerNotFound(CrmRejected):
    """The case's customer does not exist in the CRM yet."""


class VersionConflict(RuntimeError):
    """If-Match named a version that is no longer the stored one (412): re-read and merge."""


class CaseRecord(BaseModel):
    """A case as the CRM returned it: its id, version, fields and notes."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    case_id: str
    customer_id: str
    ticket_id: str
    version: int = Field(ge=1)
    subject: str | None = None
    status: str = "open"
    priority: str | None = None
    intent: str | None = None
    category: str | None = None
    sentiment: str | None = None
    summary: str | None = None
    escalated: bool = False
    notes: list[str] = Field(default_factory=list)

    def differences(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """The wanted fields whose value this case does not already hold."""
        current = self.model_dump()
        return {name: value for name, value in wanted.items() if current.get(name) != value}


class CrmPort(Protocol):
    """Customers and one case per ticket, every change under the version read (ETag/If-Match)."""

    def create_customer(self, customer_id: str, tier: str) -> None:
        """Create the customer; an existing one is left as it is."""

    def open_case(self, customer_id: str, ticket_id: str, fields: dict[str, Any], note: str) -> tuple[CaseRecord, bool]:
        """The ticket's case, created with ``fields`` and ``note`` if new; (case, created?). CustomerNotFound."""

    def get_case(self, case_id: str) -> CaseRecord:
        """The case as stored now."""

    def update_case(self, case_id: str, version: int, changes: dict[str, Any], note: str) -> CaseRecord:
        """Change fields and append a note if the case is still at ``version``; VersionConflict otherwise."""
