"""AWS execute-api URLs of served APIs become their local URLs in function environments and outputs."""

from __future__ import annotations

from pathlib import Path

from supportflow.local.apigateway import RestApiServer, localise_functions, localise_urls
from supportflow.local.apigateway.spec import RestApiSpec
from supportflow.local.resources import FunctionSpec


def _server(api_id: str, port: int) -> RestApiServer:
    spec = RestApiSpec(api_id=api_id, name="crm", function_logical_id="F", handler="x.y", routes=[], stages={"dev": {}})
    return RestApiServer("Api", spec, [], {}, Path("/nonexistent"), None, port=port)


def test_a_served_apis_url_is_rewritten_and_others_are_left() -> None:
    # Given one served API (abc123) on port 8123
    servers = {"Api": _server("abc123", 8123)}
    # Then its execute-api URL becomes local, another API's and plain values stay as they are
    assert (
        localise_urls("https://abc123.execute-api.eu-west-1.amazonaws.com/dev", servers) == "http://127.0.0.1:8123/dev"
    )
    assert localise_urls("https://zzz999.execute-api.eu-west-1.amazonaws.com/dev", servers) == (
        "https://zzz999.execute-api.eu-west-1.amazonaws.com/dev"
    )
    assert localise_urls(7, servers) == 7
    assert servers["Api"].url == "http://127.0.0.1:8123/dev"


def test_function_environments_are_localised() -> None:
    function = FunctionSpec(
        "W",
        "w",
        "arn:w",
        "m.h",
        "python3.12",
        128,
        30,
        {"CRM_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/x", "A": "b"},
    )
    localised = localise_functions({"W": function}, {"Api": _server("abc123", 9)})
    assert localised["W"].environment == {"CRM_URL": "http://127.0.0.1:9/x", "A": "b"}
