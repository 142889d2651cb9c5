"""The token budget of a tenant: check what remains, reserve an estimate before a model call, settle after."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from workers.shared.budgets.ports import BudgetExhausted, BudgetLimits, BudgetStore, Periods, Remaining, Reservation


class TokenBudget:
    """One tenant-agnostic service over a budget store; every call names the tenant and its limits."""

    def __init__(self, store: BudgetStore, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    def _periods(self) -> Periods:
        return Periods.at(self._clock())

    def remaining(self, tenant_id: str, limits: BudgetLimits) -> Remaining:
        """What the tenant has left today and this month."""
        return _remaining(self._store.used(tenant_id, self._periods()), limits)

    def check(self, tenant_id: str, limits: BudgetLimits) -> Remaining:
        """What remains; raise ``BudgetExhausted`` when either budget is spent."""
        remaining = self.remaining(tenant_id, limits)
        if remaining.daily <= 0:
            raise BudgetExhausted(tenant_id, "daily")
        if remaining.monthly <= 0:
            raise BudgetExhausted(tenant_id, "monthly")
        return remaining

    def reserve(self, tenant_id: str, tokens: int, limits: BudgetLimits) -> Reservation:
        """Hold ``tokens`` against both budgets, atomically; raise ``BudgetExhausted`` if they do not fit."""
        periods = self._periods()
        self._store.reserve(tenant_id, max(tokens, 0), periods, limits)
        return Reservation(tenant_id=tenant_id, tokens=max(tokens, 0), periods=periods, limits=limits)

    def settle(self, reservation: Reservation, actual_tokens: int) -> Remaining:
        """Replace the reservation by the actual usage (in the periods it was made in); what remains after."""
        used = self._store.adjust(reservation.tenant_id, actual_tokens - reservation.tokens, reservation.periods)
        return _remaining(used, reservation.limits)

    def release(self, reservation: Reservation) -> Remaining:
        """Give a reservation back whole (the model call never happened)."""
        return self.settle(reservation, 0)


def _remaining(used: tuple[int, int], limits: BudgetLimits) -> Remaining:
    return Remaining(daily=max(limits.daily - used[0], 0), monthly=max(limits.monthly - used[1], 0))
