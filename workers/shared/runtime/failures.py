"""What logs may say about a failure: its type and, for validation errors, the fields; never the input."""

from __future__ import annotations

import traceback
from typing import Any

from pydantic import ValidationError

from schemas.errors import MisroutedEvent, validation_fields


def describe_failure(error: BaseException) -> dict[str, Any]:
    """Log fields for ``error``: the exception type and the failing field locations, never its text.

    Exception text is unsafe to log: pydantic echoes the input it rejected, and a library's message
    may quote a request. Only errors whose text is safe by construction add more.
    """
    fields: dict[str, Any] = {"error_type": f"{type(error).__module__}.{type(error).__qualname__}"}
    if isinstance(error, ValidationError):
        fields["model"] = error.title
        fields["invalid_fields"] = validation_fields(error)
    elif isinstance(error, MisroutedEvent):
        fields["detail_type"] = error.detail_type
        fields["expected"] = list(error.expected)
    return fields


def exception_frames(error: BaseException) -> list[str]:
    """Where ``error`` was raised (``file:line in function`` per frame), without its message."""
    return [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(error.__traceback__)]
