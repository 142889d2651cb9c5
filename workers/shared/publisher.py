"""The event bus port every worker publishes through, and its EventBridge adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools import Logger

from schemas.envelope import Event
from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

logger = Logger(child=True)

# PutEvents takes at most 10 entries per call.
PUT_EVENTS_BATCH = 10


class PublishFailed(RuntimeError):
    """The bus refused one or more events; the caller's record must fail so SQS retries it."""


class EventPublisher(Protocol):
    """Where workers put the events they emit."""

    def publish(self, events: Sequence[Event]) -> None:
        """Publish every event or raise ``PublishFailed``."""


class EventBridgePublisher:
    """Publishes events to an EventBridge bus; the event class name is the detail-type."""

    def __init__(self, bus_name: str, source: str, client: EventBridgeClient | None = None) -> None:
        self._bus_name = bus_name
        self._source = source
        self._client = client or build_client("events")

    def publish(self, events: Sequence[Event]) -> None:
        """Publish in batches of ten; raise if the bus failed any entry."""
        for start in range(0, len(events), PUT_EVENTS_BATCH):
            batch = events[start : start + PUT_EVENTS_BATCH]
            entries: list[PutEventsRequestEntryTypeDef] = [
                {
                    "EventBusName": self._bus_name,
                    "Source": self._source,
                    "DetailType": event.detail_type,
                    "Detail": event.model_dump_json(),
                }
                for event in batch
            ]
            response = self._client.put_events(Entries=entries)
            if response.get("FailedEntryCount", 0):
                failures = [
                    f"{event.detail_type}/{event.event_id}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
                    for event, entry in zip(batch, response["Entries"], strict=True)
                    if entry.get("ErrorCode")
                ]
                raise PublishFailed(f"bus {self._bus_name} rejected {len(failures)} event(s): {failures}")
            for event in batch:
                logger.info(
                    "event published",
                    extra={
                        "detail_type": event.detail_type,
                        "event_id": event.event_id,
                        "correlation_id": event.correlation_id,
                    },
                )


class InMemoryPublisher:
    """A publisher that keeps what it was given: the fake of the port, for unit tests and dry runs."""

    def __init__(self) -> None:
        self.published: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        """Remember the events."""
        self.published.extend(events)
