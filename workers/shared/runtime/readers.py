"""How a worker reads one SQS message body into the message its logic takes.

A reader also names what idempotency keys on. Two exist: the bus event itself (for a worker that must
answer even an invalid detail, as intake answers with a rejection) and the typed event in its detail.
A Step Functions ``waitForTaskToken`` message (a task token and an input, not a bus event) is the
third, ``TaskTokenReader``; a message a producer of the project puts on a queue directly (a query the API
enqueues) is the fourth, ``MessageReader``; the worker runtime needs nothing else to serve them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.bus import BusEvent
from schemas.envelope import Event
from workers.shared.json_depth import cap_json_depth

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=Event)
T = TypeVar("T", bound="TaskTokenMessage")

# EventBridge keeps its own id per PutEvents; the producer's event id survives an upstream retry.
BUS_EVENT_KEY = "detail.event_id"


@dataclass(frozen=True)
class Delivery(Generic[M]):
    """One message as the worker sees it, the envelope idempotency keys on, and its correlation id."""

    message: M
    envelope: BaseModel
    correlation_id: str | None


class RecordReader(Protocol[M]):
    """Reads an SQS message body; raises (a schema-level error) when the body is not for this worker."""

    @property
    def idempotency_key(self) -> str:
        """JMESPath into the envelope (dumped as JSON) that identifies a message across redeliveries."""

    @property
    def consumes(self) -> Sequence[str]:
        """What the worker consumes, for logs."""

    def read(self, body: str) -> Delivery[M]:
        """Parse ``body``; raise ``ValidationError`` or ``MisroutedEvent`` if it is not for this worker."""


@dataclass(frozen=True)
class BusEventReader:
    """The bus event as delivered, its detail-type checked, its detail left for the worker to validate."""

    event_types: tuple[type[Event], ...]
    idempotency_key: str = BUS_EVENT_KEY

    @property
    def consumes(self) -> Sequence[str]:
        """The detail-types accepted."""
        return [event_type.detail_type for event_type in self.event_types]

    def read(self, body: str) -> Delivery[BusEvent]:
        """Parse the body as a bus event of one of the consumed detail-types."""
        # Over-deep JSON is capped first, so the worker can still answer it (intake rejects it).
        bus_event = BusEvent.model_validate_json(cap_json_depth(body))
        bus_event.expect(*self.event_types)
        return Delivery(message=bus_event, envelope=bus_event, correlation_id=bus_event.correlation_id)


@dataclass(frozen=True)
class EventReader(Generic[E]):
    """The typed event in a bus event's detail: a detail that breaks the contract fails the record."""

    event_type: type[E]
    idempotency_key: str = BUS_EVENT_KEY

    @property
    def consumes(self) -> Sequence[str]:
        """The one detail-type accepted."""
        return [self.event_type.detail_type]

    def read(self, body: str) -> Delivery[E]:
        """Parse the body as a bus event and its detail as the consumed event."""
        bus_event = BusEvent.model_validate_json(body)
        event = bus_event.parse_detail(self.event_type)
        return Delivery(message=event, envelope=bus_event, correlation_id=event.correlation_id)


# A task token is unique per state-machine task attempt: it is what a redelivery repeats.
TASK_TOKEN_KEY = "task_token"  # noqa: S105 (a field name, not a secret)


class TaskTokenMessage(BaseModel):
    """A message sent by ``sqs:sendMessage.waitForTaskToken``: the token and the task's input fields."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    task_token: str = Field(alias="taskToken", min_length=1, max_length=2048)

    @property
    def correlation_id(self) -> str | None:
        """The correlation id the input carries, if the subclass knows where."""
        return None


@dataclass(frozen=True)
class TaskTokenReader(Generic[T]):
    """A Step Functions task message: its shape is the worker's ``TaskTokenMessage`` subclass."""

    message_type: type[T]
    idempotency_key: str = TASK_TOKEN_KEY

    @property
    def consumes(self) -> Sequence[str]:
        """The task message type accepted."""
        return [self.message_type.__name__]

    def read(self, body: str) -> Delivery[T]:
        """Parse the body as the task message; the token is also the idempotency key."""
        message = self.message_type.model_validate_json(cap_json_depth(body))
        return Delivery(message=message, envelope=message, correlation_id=message.correlation_id)


@dataclass(frozen=True)
class MessageReader(Generic[M]):
    """A message model sent straight to the queue (not a bus event): its fields name its key and correlation.

    ``idempotency_key`` is a JMESPath into the message (e.g. ``"[tenant_id, query_id]"``); a body that is not
    the model fails the record with a ``ValidationError``, logged by type and field.
    """

    message_type: type[M]
    idempotency_key: str
    correlation_field: str | None = None

    @property
    def consumes(self) -> Sequence[str]:
        """The message type accepted."""
        return [self.message_type.__name__]

    def read(self, body: str) -> Delivery[M]:
        """Parse the body as the message; it is its own idempotency envelope."""
        message = self.message_type.model_validate_json(cap_json_depth(body))
        correlation = getattr(message, self.correlation_field) if self.correlation_field else None
        return Delivery(message=message, envelope=message, correlation_id=str(correlation) if correlation else None)
