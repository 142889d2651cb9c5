"""Bounding how deeply a JSON document nests before a parser (pydantic's, or the json module's) sees it.

EventBridge accepts a detail nested thousands of levels deep; pydantic's JSON parser gives up at a
few hundred and ``json`` raises ``RecursionError``. A worker that must answer every ticket (intake
rejects what it cannot accept) reads the body with the over-deep parts replaced by a marker string,
so the envelope still parses and the contract reports the field, instead of the record failing.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 32
TOO_DEEP = "<nested too deep>"
# Strings are matched whole, so a bracket inside one never counts.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep_spans(text: str, max_depth: int) -> list[tuple[int, int]]:
    """Start and end of every outermost array or object that sits deeper than ``max_depth``."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = -1
    for token in _TOKEN.finditer(text):
        char = token.group(0)
        if char in "[{":
            depth += 1
            if depth == max_depth + 1:
                start = token.start()
        elif char in "]}":
            if depth == max_depth + 1:
                spans.append((start, token.end()))
            depth -= 1
    return spans


def cap_json_depth(text: str, max_depth: int = MAX_JSON_DEPTH) -> str:
    """``text`` with every array or object nested deeper than ``max_depth`` replaced by a marker string."""
    # Cheap exit for the usual message: too few brackets to nest that deep.
    if text.count("{") + text.count("[") <= max_depth:
        return text
    pieces: list[str] = []
    kept_from = 0
    for start, end in _too_deep_spans(text, max_depth):
        pieces.append(text[kept_from:start])
        pieces.append(f'"{TOO_DEEP}"')
        kept_from = end
    pieces.append(text[kept_from:])
    return "".join(pieces)
