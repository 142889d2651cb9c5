"""What the asynchronous offline jobs share: their timing settings and the switch that drops completion events."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

# Per request: "off" = this job's EventBridge notifications are never put (tests of the polling fallback).
JOB_EVENTS_HEADER = "x-supportflow-job-events"


@dataclass
class JobSettings:
    """Timing and limits of the offline jobs; mutable so a test can tighten them on a running server."""

    bda_seconds: float = 1.0  # Created -> finished, at least (real BDA takes tens of seconds)
    batch_step_seconds: float = 0.5  # between Submitted, Validating and InProgress
    batch_min_records: int = 100  # Bedrock's minimum records per batch job (per model, on AWS)


class EventGate:
    """Drops job events on request: per job (header) or the next N / all of them (server side)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drop_next: int | None = 0  # None = drop every event until reset

    def drop(self, first: int | None = None) -> None:
        """Drop the next ``first`` job events (every one when None) — a lost completion event."""
        with self._lock:
            self._drop_next = first

    def reset(self) -> None:
        """Deliver every event again."""
        self.drop(0)

    def allow(self) -> bool:
        """True if the next event may be put on the bus (consumes one drop)."""
        with self._lock:
            if self._drop_next is None:
                return False
            if self._drop_next > 0:
                self._drop_next -= 1
                return False
            return True


def events_wanted(headers: Mapping[str, str]) -> bool:
    """False when the request asks for its job's events to be suppressed."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(JOB_EVENTS_HEADER, "").strip().lower() != "off"
