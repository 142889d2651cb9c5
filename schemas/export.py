"""Write the JSON Schema of every event to ``schemas/json/<DetailType>.json`` (``make schemas``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from schemas.events import ALL_EVENTS, event_json_schema

JSON_DIR = Path(__file__).parent / "json"
logger = logging.getLogger(__name__)


def render_schemas() -> dict[str, str]:
    """File name → JSON text for every event contract."""
    return {
        f"{event.detail_type}.json": json.dumps(event_json_schema(event), indent=2, sort_keys=True) + "\n"
        for event in ALL_EVENTS
    }


def export_schemas(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema, removing stale ones; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for stale in directory.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, text in rendered.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in export_schemas():
        logger.info("wrote %s", path)
