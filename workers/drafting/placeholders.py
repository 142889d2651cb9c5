"""Ticket placeholders (``[EMAIL]``, ``{{Order Number}}``) in a draft: filled from facts or listed."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_ ]*\]|\{\{\s*[^{}\n]{1,60}?\s*\}\}")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def placeholders_in(text: str) -> list[str]:
    """The placeholders of ``text`` as written, in order of appearance, without repeats."""
    return list(dict.fromkeys(match.group(0) for match in _PLACEHOLDER.finditer(text)))


def fill_placeholders(text: str, facts: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with each placeholder a fact names replaced by its value, and the placeholders left."""
    known = {_key(name): value for name, value in facts.items() if value.strip()}

    def replace(match: re.Match[str]) -> str:
        value = known.get(_key(match.group(0)))
        # A fact whose value is itself a placeholder (redacted) fills nothing.
        return value if value and not _PLACEHOLDER.fullmatch(value.strip()) else match.group(0)

    filled = _PLACEHOLDER.sub(replace, text)
    return filled, placeholders_in(filled)
