"""Sample ticket events of one ticket (events/*.json), rebuilt with chosen ids and times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas.bus import BusEvent

EVENTS = Path(__file__).resolve().parents[3] / "events"
T0 = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
TICKET_FLOW = (
    "TicketAccepted",
    "TicketClassified",
    "SentimentAnalyzed",
    "ResponseDrafted",
    "CrmRecordUpdated",
    "EscalationRequested",
    "EscalationResolved",
)


def bus_event(sample: str, *, minute: int = 0, event_id: str | None = None, **detail: Any) -> BusEvent:
    """The sample as the bus delivers it, ``minute`` minutes after T0, with detail overrides."""
    loaded = json.loads((EVENTS / f"{sample}.json").read_text(encoding="utf-8"))
    event_id = event_id or f"{sample}-{minute}"
    occurred_at = (T0 + timedelta(minutes=minute)).isoformat()
    loaded["id"] = event_id
    loaded["detail"].update(event_id=event_id, occurred_at=occurred_at, **detail)
    return BusEvent.model_validate(loaded)


def ticket_flow() -> list[BusEvent]:
    """One submission's events, a minute apart, in pipeline order."""
    return [bus_event(sample, minute=index) for index, sample in enumerate(TICKET_FLOW)]
