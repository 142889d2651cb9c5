"""What crosses the mock CRM's HTTP boundary: request and response bodies, and the one error shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Tier = Literal["free", "standard", "premium", "enterprise"]
CaseStatus = Literal["open", "pending", "escalated", "resolved", "closed"]
CasePriority = Literal["high", "normal", "low"]
ShortText = Annotated[str, StringConstraints(max_length=500)]
Note = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomerIn(_Body):
    """PUT /customers/{customer_id}: the customer as the caller wants it to be."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    tier: Tier = "standard"


class Customer(CustomerIn):
    """A customer record, with its optimistic version (also sent as the ETag)."""

    customer_id: Identifier
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class CaseFields(_Body):
    """The mutable fields of a case; every one optional so a PATCH sends only what changes."""

    subject: ShortText | None = None
    status: CaseStatus | None = None
    priority: CasePriority | None = None
    intent: ShortText | None = None
    category: ShortText | None = None
    sentiment: ShortText | None = None
    summary: Annotated[str, StringConstraints(max_length=2000)] | None = None
    escalated: bool | None = None


class CaseIn(CaseFields):
    """PUT /customers/{customer_id}/cases/{ticket_id}: the case for one ticket."""

    status: CaseStatus = "open"
    notes: list[Note] = Field(default_factory=list, max_length=50)


class CasePatch(CaseFields):
    """PATCH /cases/{case_id}: fields to change, and notes to append."""

    add_notes: list[Note] = Field(default_factory=list, max_length=50)


class Case(_Body):
    """A case record: one per (customer, ticket), with its optimistic version."""

    case_id: Identifier
    customer_id: Identifier
    ticket_id: Identifier
    subject: ShortText | None = None
    status: CaseStatus
    priority: CasePriority | None = None
    intent: ShortText | None = None
    category: ShortText | None = None
    sentiment: ShortText | None = None
    summary: Annotated[str, StringConstraints(max_length=2000)] | None = None
    escalated: bool = False
    notes: list[Note] = Field(default_factory=list)
    version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class CaseList(_Body):
    """GET /customers/{customer_id}/cases."""

    customer_id: Identifier
    cases: list[Case]


class ErrorBody(_Body):
    """Every error the API answers with: a stable machine code and a message for people."""

    code: str
    message: str
