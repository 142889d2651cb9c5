"""Reading AWS service events (S3, Bedrock) and supportflow events from one queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.bus import BusEvent
from schemas.errors import MisroutedEvent
from workers.shared.runtime.readers import Delivery

# What identifies a delivery, whichever of the three it is: a supportflow event by its producer's event id
# (stable across a producer's retries), an upload by its object revision, a job event by its job and
# detail-type. Not EventBridge's own id: moto gives every S3 notification the same one.
AWS_EVENT_KEY = (
    '[detail_type, detail.event_id, detail.bucket.name, detail.object.key, detail.object."version-id",'
    " detail.object.etag, detail.object.eTag, detail.object.sequencer, detail.job_id]"
)


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
