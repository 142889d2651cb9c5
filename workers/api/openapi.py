"""The public API's OpenAPI document, generated from the routes: ``python -m workers.api.openapi`` rewrites it.

``--models`` prints the request bodies as API Gateway models (JSON Schema draft 4, references inlined), the
``Models`` of PublicApi in template.yaml; a unit test keeps both current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from workers.api.app import TITLE, VERSION, app

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
# The request bodies API Gateway validates before the function runs.
REQUEST_MODELS = ("TicketIn", "FeedbackIn", "ChatIn", "QueriesIn")
# Keywords API Gateway's draft-4 validator does not know; documentation only.
_DROPPED = {"title", "description", "examples", "default"}


def openapi_document() -> str:
    """The document as the code describes it today (stable key order, trailing newline)."""
    return app.get_openapi_json_schema(title=TITLE, version=VERSION) + "\n"


def _inline(schema: Any, components: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(components[schema["$ref"].rsplit("/", 1)[-1]], components)
        inlined = {key: _inline(value, components) for key, value in schema.items() if key not in _DROPPED}
        if isinstance(schema.get("properties"), dict):
            # Property names are data, not keywords: a property called "description" stays.
            inlined["properties"] = {name: _inline(sub, components) for name, sub in schema["properties"].items()}
        return inlined
    if isinstance(schema, list):
        return [_inline(item, components) for item in schema]
    return schema


def gateway_models() -> dict[str, dict[str, Any]]:
    """Each validated request body as a self-contained draft-4 schema."""
    components = json.loads(openapi_document())["components"]["schemas"]
    return {
        name: {"$schema": "http://json-schema.org/draft-04/schema#", **_inline(components[name], components)}
        for name in REQUEST_MODELS
    }


def main(argv: list[str] | None = None) -> int:
    """Write openapi.json next to this module, or print the gateway models (``--models``)."""
    if "--models" in (argv if argv is not None else sys.argv[1:]):
        import yaml  # noqa: PLC0415 (a development-time printout)

        sys.stdout.write(yaml.safe_dump({"Models": gateway_models()}, sort_keys=False, width=120))
        return 0
    OPENAPI_PATH.write_text(openapi_document(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
