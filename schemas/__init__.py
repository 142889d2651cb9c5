"""Event contracts: pydantic v2 models for everything that crosses a process boundary."""

from schemas import events
from schemas.bus import BusEvent, bus_event_for
from schemas.envelope import SCHEMA_VERSION, Contract, Event
from schemas.events import *  # noqa: F403  (the contracts are this package's public surface)

__all__ = ["SCHEMA_VERSION", "BusEvent", "Contract", "Event", "bus_event_for", *events.__all__]  # noqa: PLE0604
