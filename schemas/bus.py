"""The EventBridge event shape around a supportflow event, as rules and SQS targets deliver it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import Event
from schemas.errors import MisroutedEvent

E = TypeVar("E", bound=Event)


class BusEvent(BaseModel):
    """An EventBridge event as a rule delivers it to an SQS target (the message body)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    version: str = "0"
    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str = "000000000000"
    time: datetime
    region: str = "us-east-1"
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any]

    @property
    def correlation_id(self) -> str | None:
        """The flow's correlation id if the detail carries one (read before the detail is validated)."""
        value = self.detail.get("correlation_id")
        return value if isinstance(value, str) else None

    def expect(self, *event_types: type[Event]) -> None:
        """Raise ``MisroutedEvent`` unless this event's detail-type is one of ``event_types``."""
        expected = {event_type.detail_type for event_type in event_types}
        if self.detail_type not in expected:
            raise MisroutedEvent(self.detail_type, expected)

    def parse_detail(self, event_type: type[E]) -> E:
        """Validate ``detail`` as ``event_type``; ``MisroutedEvent`` or ``ValidationError`` if it does not match."""
        self.expect(event_type)
        return event_type.from_detail(self.detail)


def bus_event_for(event: Event, source: str, region: str = "us-east-1") -> BusEvent:
    """Wrap an event as EventBridge would deliver it (for samples and pattern tests)."""
    return BusEvent(
        id=event.event_id,
        **{"detail-type": event.detail_type},
        source=source,
        # A naive timestamp is taken as UTC, never replaced: the sample keeps the event's own time.
        time=event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=UTC),
        region=region,
        detail=event.model_dump(mode="json"),
    )
