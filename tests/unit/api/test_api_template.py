"""The public API's wiring in template.yaml: the gateway's request models are the code's, every method is guarded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from workers.api.openapi import REQUEST_MODELS, gateway_models

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def _resources() -> dict[str, Any]:
    return dict(yaml_parse(TEMPLATE.read_text(encoding="utf-8"))["Resources"])


def test_the_gateways_request_models_are_the_ones_the_code_generates() -> None:
    # Given PublicApi's Models, Then they equal `python -m workers.api.openapi --models`
    assert _resources()["PublicApi"]["Properties"]["Models"] == gateway_models()


def test_every_route_goes_through_the_authorizer_with_a_key_and_every_body_is_validated() -> None:
    # Given the API function's events
    resources = _resources()
    auth = resources["PublicApi"]["Properties"]["Auth"]
    events = resources["ApiFunction"]["Properties"]["Events"].values()
    # Then the authorizer is the default with an API key required, and each body route names its model
    assert (auth["DefaultAuthorizer"], auth["ApiKeyRequired"]) == ("TenantAuthorizer", True)
    bodies = {e["Properties"]["RequestModel"]["Model"] for e in events if e["Properties"]["Method"] == "POST"}
    assert bodies == set(REQUEST_MODELS)
    assert all(e["Properties"]["RequestModel"]["ValidateBody"] for e in events if e["Properties"]["Method"] == "POST")
