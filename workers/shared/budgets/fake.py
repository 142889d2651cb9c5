"""The budget store kept in memory, with the same all-or-nothing conditional add: the fake for tests."""

from __future__ import annotations

import threading

from workers.shared.budgets.ports import BudgetExhausted, BudgetLimits, Periods


class InMemoryBudgetStore:
    """Counters in a dict behind a lock; a reservation either fits both limits or changes nothing."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def used(self, tenant_id: str, periods: Periods) -> tuple[int, int]:
        """Tokens used in the day and in the month."""
        with self._lock:
            return self._pair(tenant_id, periods)

    def reserve(self, tenant_id: str, tokens: int, periods: Periods, limits: BudgetLimits) -> tuple[int, int]:
        """Add to both counters if both stay within their limits."""
        with self._lock:
            day, month = self._pair(tenant_id, periods)
            if day + tokens > limits.daily:
                raise BudgetExhausted(tenant_id, "daily")
            if month + tokens > limits.monthly:
                raise BudgetExhausted(tenant_id, "monthly")
            return self._add(tenant_id, tokens, periods)

    def adjust(self, tenant_id: str, delta: int, periods: Periods) -> tuple[int, int]:
        """Add ``delta`` to both counters."""
        with self._lock:
            return self._add(tenant_id, delta, periods)

    def _pair(self, tenant_id: str, periods: Periods) -> tuple[int, int]:
        return (
            self.counters.get(f"{tenant_id}#{periods.day}", 0),
            self.counters.get(f"{tenant_id}#{periods.month}", 0),
        )

    def _add(self, tenant_id: str, delta: int, periods: Periods) -> tuple[int, int]:
        for key in (f"{tenant_id}#{periods.day}", f"{tenant_id}#{periods.month}"):
            self.counters[key] = self.counters.get(key, 0) + delta
        return self._pair(tenant_id, periods)
