"""Which events notify which audience, with which message: data (``routes.json``), read once at cold start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from schemas.envelope import Event
from schemas.events import ALL_EVENTS, Audience

DEFAULT_ROUTES_FILE = str(Path(__file__).with_name("routes.json"))
_EVENT_TYPES = {event_type.detail_type: event_type for event_type in ALL_EVENTS}


class Route(BaseModel):
    """One rule: events of ``detail_type`` whose fields match ``when`` go to ``audience``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    detail_type: str
    audience: Audience
    subject: str = Field(min_length=1, max_length=100)
    when: dict[str, list[JsonValue]] = Field(default_factory=dict)
    fields: list[str] = Field(min_length=1, description="All the audience sees of the event.")

    def matches(self, event: Event) -> bool:
        """Whether the event is of this route's type and each ``when`` field holds an accepted value."""
        if event.detail_type != self.detail_type:
            return False
        values = event.model_dump(mode="json")
        return all(values.get(name) in accepted for name, accepted in self.when.items())

    def message(self, event: Event) -> dict[str, Any]:
        """The notification body: the subject and the route's fields of the event, nothing else."""
        values = event.model_dump(mode="json")
        return {"subject": self.subject, "event_type": event.detail_type, **{f: values.get(f) for f in self.fields}}


class RoutingTable(BaseModel):
    """Every route, in the file's order (the first match per audience wins)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    comment: str = ""
    routes: list[Route]

    @classmethod
    def load(cls, path: str) -> RoutingTable:
        """Read and check a routing file: every route names a known event type and only its fields."""
        table = cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        for route in table.routes:
            event_type = _EVENT_TYPES.get(route.detail_type)
            if event_type is None:
                msg = f"route {route.name}: unknown detail-type {route.detail_type}"
                raise ValueError(msg)
            unknown = (set(route.fields) | set(route.when)) - set(event_type.model_fields)
            if unknown:
                msg = f"route {route.name}: {route.detail_type} has no field(s) {sorted(unknown)}"
                raise ValueError(msg)
        return table

    @property
    def detail_types(self) -> tuple[type[Event], ...]:
        """The event types some route names, in first-mention order."""
        names = dict.fromkeys(route.detail_type for route in self.routes)
        return tuple(_EVENT_TYPES[name] for name in names)

    def routes_for(self, event: Event) -> list[Route]:
        """The routes an event takes: at most one per audience, the first that matches."""
        chosen: dict[str, Route] = {}
        for route in self.routes:
            if route.audience not in chosen and route.matches(event):
                chosen[route.audience] = route
        return list(chosen.values())

    def event_type(self, detail_type: str) -> type[Event]:
        """The event class of a detail-type."""
        return _EVENT_TYPES[detail_type]
