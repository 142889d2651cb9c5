"""The local API Gateway's part of a request: stage, route choice, API keys, the proxy event, the answer."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from supportflow.local.apigateway.proxy import HttpRequest
from supportflow.local.apigateway.server import RestApiGateway
from supportflow.local.apigateway.spec import RestApiSpec, Route, match_route

ROUTES = [
    Route("GET", "/customers/{customer_id}", "r1", api_key_required=True),
    Route("GET", "/customers/me", "r2", api_key_required=True),
    Route("PUT", "/customers/{customer_id}/cases/{ticket_id}", "r3", api_key_required=True),
    Route("ANY", "/files/{proxy+}", "r4", api_key_required=False),
]
SPEC = RestApiSpec(
    api_id="abc123",
    name="crm",
    function_logical_id="Fn",
    handler="x.y",
    routes=ROUTES,
    stages={"dev": {"good-key": "key-id"}, "Stage": {}},
)


class _Recorder:
    def __init__(self, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = answer or {"statusCode": 200, "headers": {"ETag": '"1"'}, "body": "{}"}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.answer


def _request(
    method: str, path: str, *, key: str | None = "good-key", body: bytes = b"", query: str = ""
) -> HttpRequest:
    headers = [("Host", "127.0.0.1:9"), ("Content-Type", "application/json")]
    if key is not None:
        headers.append(("X-Api-Key", key))
    return HttpRequest(method=method, path=path, query=query, headers=headers, body=body)


@pytest.mark.parametrize(
    ("method", "path", "resource", "parameters"),
    [
        ("GET", "/customers/42", "/customers/{customer_id}", {"customer_id": "42"}),
        ("GET", "/customers/me", "/customers/me", {}),
        (
            "PUT",
            "/customers/1/cases/T-9",
            "/customers/{customer_id}/cases/{ticket_id}",
            {"customer_id": "1", "ticket_id": "T-9"},
        ),
        ("DELETE", "/files/a/b/c.txt", "/files/{proxy+}", {"proxy": "a/b/c.txt"}),
    ],
)
def test_routes_match_as_api_gateway_picks_them(
    method: str, path: str, resource: str, parameters: dict[str, str]
) -> None:
    # Given literal, parameter and greedy routes, Then the most specific one wins with its path parameters
    matched = match_route(ROUTES, method, path)
    assert matched is not None
    assert (matched[0].resource, matched[1]) == (resource, parameters)


@pytest.mark.parametrize(("method", "path"), [("POST", "/customers/1"), ("GET", "/customers"), ("GET", "/files")])
def test_no_route_matches_what_is_not_declared(method: str, path: str) -> None:
    assert match_route(ROUTES, method, path) is None


def test_a_request_becomes_the_rest_proxy_event() -> None:
    # Given a keyed request with a query string and a JSON body
    handler = _Recorder()
    gateway = RestApiGateway(SPEC, handler)
    # When it is served
    response = gateway.handle(_request("PUT", "/dev/customers/1/cases/T-9", body=b'{"a": 1}', query="x=1&x=2&y="))
    # Then the handler got API Gateway's v1 event: path without the stage, parameters, key identity
    (event,) = handler.events
    assert response.status == 200
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/customers/{customer_id}/cases/{ticket_id}",
        "/customers/1/cases/T-9",
        "PUT",
    )
    assert event["pathParameters"] == {"customer_id": "1", "ticket_id": "T-9"}
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["headers"]["X-Api-Key"] == "good-key"
    assert event["requestContext"]["stage"] == "dev"
    assert event["requestContext"]["path"] == "/dev/customers/1/cases/T-9"
    assert event["requestContext"]["identity"]["apiKey"] == "good-key"
    assert event["requestContext"]["identity"]["apiKeyId"] == "key-id"
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)


def test_a_binary_body_arrives_base64_encoded() -> None:
    handler = _Recorder()
    RestApiGateway(SPEC, handler).handle(_request("DELETE", "/dev/files/x", body=b"\xff\x00"))
    assert handler.events[0]["isBase64Encoded"] is True
    assert base64.b64decode(handler.events[0]["body"]) == b"\xff\x00"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (_request("GET", "/dev/customers/1", key=None), "Forbidden"),
        (_request("GET", "/dev/customers/1", key="wrong"), "Forbidden"),
        # A key of another stage's usage plan is not a key of this stage
        (_request("GET", "/Stage/customers/1"), "Forbidden"),
        (_request("GET", "/prod/customers/1"), "Forbidden"),
        (_request("POST", "/dev/customers/1"), "Missing Authentication Token"),
    ],
)
def test_api_gateway_refuses_before_the_function_runs(request_: HttpRequest, message: str) -> None:
    handler = _Recorder()
    response = RestApiGateway(SPEC, handler).handle(request_)
    assert (response.status, json.loads(response.body)) == (403, {"message": message})
    assert handler.events == []


def test_a_route_without_a_key_requirement_needs_no_key() -> None:
    handler = _Recorder()
    assert RestApiGateway(SPEC, handler).handle(_request("GET", "/dev/files/a", key=None)).status == 200


@pytest.mark.parametrize("answer", [{"body": "no status"}, "not a dict"])
def test_a_malformed_function_answer_is_a_502(answer: Any) -> None:
    response = RestApiGateway(SPEC, _Recorder(answer)).handle(_request("GET", "/dev/customers/1"))
    assert (response.status, json.loads(response.body)) == (502, {"message": "Internal server error"})


def test_a_raising_function_is_a_502() -> None:
    def boom(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("bug")

    response = RestApiGateway(SPEC, boom).handle(_request("GET", "/dev/customers/1"))
    assert response.status == 502


def test_the_answer_carries_single_and_multi_value_headers() -> None:
    answer = {
        "statusCode": 201,
        "headers": {"ETag": '"3"'},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "{}",
    }
    response = RestApiGateway(SPEC, _Recorder(answer)).handle(_request("GET", "/dev/customers/1"))
    assert response.status == 201
    assert ("ETag", '"3"') in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
