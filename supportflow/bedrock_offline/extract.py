"""Cheap extraction by pattern: emails, amounts, order-like identifiers, numbers, phones, URLs, dates."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AMOUNT = re.compile(r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|dollars|euros?))", re.I)
_ORDER_ID = re.compile(r"(?:#\s?)?\b(?=[A-Z0-9-]*\d)[A-Z]{0,5}-?\d{4,}(?:-[A-Z0-9]+)*\b")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
_URL = re.compile(r"https?://\S+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?\b")


def emails(text: str) -> list[str]:
    """Email addresses in order of appearance."""
    return list(dict.fromkeys(_EMAIL.findall(text)))


def amounts(text: str) -> list[float]:
    """Money amounts (``$12.50``, ``30 EUR``) as floats."""
    out = []
    for raw in _AMOUNT.findall(text):
        digits = re.sub(r"[^\d.]", "", raw.replace(",", ""))
        if digits:
            out.append(float(digits))
    return out


def identifiers(text: str) -> list[str]:
    """Order/ticket-like identifiers (``#12345``, ``ORD-2024-001``) without the leading ``#``."""
    found = [m.group(0).lstrip("# ") for m in _ORDER_ID.finditer(text)]
    return list(dict.fromkeys(f for f in found if not re.fullmatch(r"(19|20)\d{2}", f)))


def numbers(text: str) -> list[float]:
    """Every number in the text."""
    return [float(n.replace(",", ".")) for n in _NUMBER.findall(text)]


def phones(text: str) -> list[str]:
    """Phone-number-like strings."""
    return list(dict.fromkeys(p.strip() for p in _PHONE.findall(text)))


def urls(text: str) -> list[str]:
    """URLs."""
    return list(dict.fromkeys(_URL.findall(text)))


def dates(text: str) -> list[str]:
    """ISO-like dates."""
    return list(dict.fromkeys(_DATE.findall(text)))
