"""The mock CRM's OpenAPI document, generated from the routes: ``python -m workers.api.openapi`` rewrites it."""

from __future__ import annotations

import sys
from pathlib import Path

from workers.api.app import TITLE, VERSION, app

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


def openapi_document() -> str:
    """The document as the code describes it today (stable key order, trailing newline)."""
    return app.get_openapi_json_schema(title=TITLE, version=VERSION) + "\n"


def main() -> int:
    """Write openapi.json next to this module."""
    OPENAPI_PATH.write_text(openapi_document(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
