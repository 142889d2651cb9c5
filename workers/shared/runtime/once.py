"""What every handler object shares: its app built once, on first use, and a settings error named by field.

A worker's app (clients, tables, the model) is built on the first invocation, not at import, so a test or
the emulator can set the environment first, and kept for the life of the process (one cold start). The
handler object holds it, not a module global: a test builds its own handler around fakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from pydantic import ValidationError

from schemas.errors import validation_fields

__all__ = ["BuiltOnce", "InvocationContext", "WorkerMisconfigured"]

S = TypeVar("S")


class WorkerMisconfigured(RuntimeError):
    """The worker's wiring rejected its settings: fails every invocation loudly, naming the fields."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(f"invalid worker settings: {'; '.join(fields)}")


class InvocationContext(Protocol):
    """What the handler reads of a context: Lambda's object, the consumer's stand-in, a test's fake."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""


class BuiltOnce(Generic[S]):
    """A value built by ``build`` on first use; threads that ask at once wait for the one build."""

    def __init__(self, build: Callable[[], S]) -> None:
        self._build = build
        self._value: S | None = None
        self._lock = threading.Lock()

    def get(self) -> S:
        """The value, built now if it was not yet; ``WorkerMisconfigured`` if its settings are invalid."""
        with self._lock:
            if self._value is None:
                try:
                    self._value = self._build()
                except ValidationError as error:
                    # Settings come from the environment: name the fields, never echo the values.
                    raise WorkerMisconfigured(validation_fields(error)) from None
            return self._value
