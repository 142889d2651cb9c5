"""The envelope every supportflow event carries, and how events travel on the bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"
E = TypeVar("E", bound="Event")
_FOLLOW_UP_NAMESPACE = uuid.UUID("5b0d6f1e-3f7a-4c61-9a37-2c1f4e8d9b10")
EVENT_SOURCE_PREFIX = "supportflow"


def _new_event_id() -> str:
    return str(uuid.uuid4())


def derived_event_id(cause_event_id: str, detail_type: str) -> str:
    """The id of the ``detail_type`` event caused by ``cause_event_id``: stable across redeliveries."""
    return str(uuid.uuid5(_FOLLOW_UP_NAMESPACE, f"{cause_event_id}/{detail_type}"))


def _now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base for every model that crosses a process boundary: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Event(Contract):
    """A fact that happened, published on the bus. Subclasses are past-tense nouns.

    The envelope fields travel inside EventBridge's ``detail``; the class name is the
    EventBridge ``detail-type``, so rules can route on it.
    """

    schema_version: str = Field(default=SCHEMA_VERSION, description="Contract version, major.minor.")
    event_id: str = Field(default_factory=_new_event_id, min_length=1, max_length=128)
    correlation_id: str = Field(
        min_length=1,
        max_length=128,
        description="The ticket's (or feedback's, or run's) id, carried unchanged through every hop.",
    )
    tenant_id: str = Field(default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    occurred_at: datetime = Field(default_factory=_now)

    detail_type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.detail_type = cls.__name__

    def follow_up(self, event_type: type[E], **fields: Any) -> E:
        """Build the event this one causes: same correlation id and tenant, and a derived event id.

        The id is a UUIDv5 of this event's id and the new detail-type, so a redelivered cause
        yields the very same follow-up id and consumers downstream can deduplicate on it.
        """
        fields.setdefault("event_id", derived_event_id(self.event_id, event_type.detail_type))
        fields.setdefault("correlation_id", self.correlation_id)
        fields.setdefault("tenant_id", self.tenant_id)
        return event_type(**fields)

    @classmethod
    def from_detail(cls, detail: dict[str, Any] | str | bytes) -> Self:
        """Parse an EventBridge ``detail`` (dict or JSON) into this event."""
        if isinstance(detail, str | bytes):
            return cls.model_validate_json(detail)
        return cls.model_validate(detail)
