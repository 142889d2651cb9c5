"""Reading Bedrock's batch job state changes (an AWS service event, keyed by EventBridge's id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.bus import BusEvent
from schemas.errors import MisroutedEvent
from workers.shared.runtime.readers import Delivery

# An AWS service event has no producer event id in its detail: EventBridge's id is the key.
AWS_EVENT_KEY = "id"


@dataclass(frozen=True)
class DetailTypeReader:
    """The bus event as delivered, accepted when its detail-type is one of ``detail_types``."""

    detail_types: tuple[str, ...]
    idempotency_key: str = AWS_EVENT_KEY

    @property
    def consumes(self) -> Sequence[str]:
        """The detail-types accepted."""
        return list(self.detail_types)

    def read(self, body: str) -> Delivery[BusEvent]:
        """Parse the body as a bus event of one of the accepted detail-types."""
        event = BusEvent.model_validate_json(body)
        if event.detail_type not in self.detail_types:
            raise MisroutedEvent(event.detail_type, set(self.detail_types))
        return Delivery(message=event, envelope=event, correlation_id=event.correlation_id)
