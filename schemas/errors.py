"""Turning contract violations into reasons a sender can act on."""

from __future__ import annotations

from pydantic import ValidationError


def validation_messages(error: ValidationError) -> list[str]:
    """Pydantic errors as ``field.path: message`` lines, without echoing the (possibly PII) input."""
    return [f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}" for item in error.errors()]
