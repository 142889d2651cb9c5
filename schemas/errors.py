"""Turning contract violations into reasons a sender can act on, and the schema-level errors."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError


class MisroutedEvent(ValueError):
    """A bus event whose detail-type this consumer does not consume: a routing fault, never a bad ticket.

    Its message names only detail-types (the template's vocabulary), never anything from the detail,
    so it is safe to log.
    """

    def __init__(self, detail_type: str, expected: Iterable[str]) -> None:
        self.detail_type = detail_type
        self.expected = tuple(sorted(expected))
        super().__init__(f"expected detail-type {' or '.join(map(repr, self.expected))}, got {detail_type!r}")


def validation_messages(error: ValidationError) -> list[str]:
    """Pydantic errors as ``field.path: message`` lines, without echoing the (possibly PII) input."""
    return [f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}" for item in error.errors()]


def validation_fields(error: ValidationError) -> list[str]:
    """Pydantic errors as ``field.path: error_type`` only: what logs may say about a rejected input."""
    return [f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['type']}" for item in error.errors()]
