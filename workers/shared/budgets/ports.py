"""Per-tenant token budgets: the limits, what remains, a reservation, and the store port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class BudgetExhausted(RuntimeError):
    """The tenant's daily or monthly token budget cannot cover the tokens asked for."""

    def __init__(self, tenant_id: str, period: str) -> None:
        super().__init__(f"the {period} token budget is spent")
        self.tenant_id = tenant_id
        self.period = period


@dataclass(frozen=True)
class BudgetLimits:
    """How many tokens a tenant may spend per UTC day and per UTC month."""

    daily: int
    monthly: int


@dataclass(frozen=True)
class Remaining:
    """Tokens left today and this month (never below zero)."""

    daily: int
    monthly: int

    @property
    def spent(self) -> bool:
        """Whether either budget is used up."""
        return self.daily <= 0 or self.monthly <= 0

    def headers(self) -> dict[str, str]:
        """The response headers that tell the caller what remains."""
        return {"X-Budget-Remaining-Daily": str(self.daily), "X-Budget-Remaining-Monthly": str(self.monthly)}


@dataclass(frozen=True)
class Periods:
    """The day and month a use of tokens counts against, as counter keys."""

    day: str
    month: str

    @classmethod
    def at(cls, now: datetime | None = None) -> Periods:
        """The UTC day and month of ``now`` (default: the current time)."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        return cls(day=moment.strftime("%Y-%m-%d"), month=moment.strftime("%Y-%m"))


@dataclass(frozen=True)
class Reservation:
    """Tokens held against both budgets before a model call, to be settled with the actual usage."""

    tenant_id: str
    tokens: int
    periods: Periods
    limits: BudgetLimits


class BudgetStore(Protocol):
    """Atomic per-tenant counters of tokens used per day and per month."""

    def used(self, tenant_id: str, periods: Periods) -> tuple[int, int]:
        """Tokens used in the day and in the month."""

    def reserve(self, tenant_id: str, tokens: int, periods: Periods, limits: BudgetLimits) -> tuple[int, int]:
        """Add ``tokens`` to both counters only if neither passes its limit; else raise ``BudgetExhausted``."""

    def adjust(self, tenant_id: str, delta: int, periods: Periods) -> tuple[int, int]:
        """Add ``delta`` (may be negative) to both counters unconditionally; the usage after."""
