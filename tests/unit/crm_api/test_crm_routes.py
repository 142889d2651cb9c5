"""The CRM's routes through API Gateway proxy events: statuses, ETags, validation and the one error shape."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.fakes import FakeLambdaContext
from workers.crm_api.app import app, refuse_unreadable_body
from workers.crm_api.logic import CrmService
from workers.crm_api.openapi import OPENAPI_PATH, openapi_document
from workers.crm_api.store import InMemoryCrmStore
from workers.shared.runtime.http import HttpWorker, http_worker

handler: HttpWorker[CrmService]


@pytest.fixture(autouse=True)
def _fake_crm() -> Iterator[None]:
    global handler  # noqa: PLW0603  (each test gets a fresh handler around a fresh in-memory CRM)
    handler = http_worker(app, lambda: CrmService(InMemoryCrmStore()), guard=refuse_unreadable_body)
    yield


def call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Resolve one REST proxy event (v1) the way API Gateway would send it."""
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"stage": "test", "requestId": "r-1", "identity": {"apiKey": "k"}},
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    return handler(event, FakeLambdaContext())


def _etag(response: dict[str, Any]) -> str:
    # Powertools answers in multiValueHeaders when the event carried them, as API Gateway sends.
    return str(response["multiValueHeaders"]["ETag"][0])


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_create_then_read_a_customer_with_its_etag() -> None:
    # When a customer is created, Then 201 with ETag "1"; reading it answers the same
    created = call("PUT", "/customers/c-1", {"name": "Ada", "tier": "enterprise"})
    assert created["statusCode"] == 201
    assert _etag(created) == '"1"'
    read = call("GET", "/customers/c-1")
    assert read["statusCode"] == 200
    assert _body(read)["tier"] == "enterprise"


def test_conflicts_answer_412_and_428_in_the_error_shape() -> None:
    # Given a customer at version 1
    call("PUT", "/customers/c-1", {"name": "Ada"})
    # When replaced without If-Match, Then 428; with a stale one, Then 412; each {code, message}
    missing = call("PUT", "/customers/c-1", {"name": "Ada L."})
    stale = call("PUT", "/customers/c-1", {"name": "Ada L."}, {"If-Match": '"9"'})
    assert (missing["statusCode"], _body(missing)["code"]) == (428, "precondition_required")
    assert (stale["statusCode"], _body(stale)["code"]) == (412, "version_mismatch")
    assert set(_body(stale)) == {"code", "message"}
    # When replaced with the right ETag (header name in any case), Then 200 and ETag "2"
    ok = call("PUT", "/customers/c-1", {"name": "Ada L."}, {"if-match": '"1"'})
    assert (ok["statusCode"], _etag(ok)) == (200, '"2"')


def test_a_case_put_twice_is_one_case() -> None:
    # Given a customer
    call("PUT", "/customers/c-1", {"name": "Ada"})
    # When the case of ticket T-1 is put twice
    first = call("PUT", "/customers/c-1/cases/T-1", {"subject": "refund", "priority": "high"})
    second = call("PUT", "/customers/c-1/cases/T-1", {"subject": "refund", "priority": "high"})
    # Then 201 then 200 with the same case, and the customer has one case
    assert (first["statusCode"], second["statusCode"]) == (201, 200)
    assert _body(first) == _body(second)
    assert len(_body(call("GET", "/customers/c-1/cases"))["cases"]) == 1


def test_patch_a_case_under_if_match() -> None:
    call("PUT", "/customers/c-1", {"name": "Ada"})
    case_id = _body(call("PUT", "/customers/c-1/cases/T-1", {}))["case_id"]
    patched = call("PATCH", f"/cases/{case_id}", {"status": "resolved", "add_notes": ["done"]}, {"If-Match": '"1"'})
    assert patched["statusCode"] == 200
    assert _etag(patched) == '"2"'
    assert _body(patched)["notes"] == ["done"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/customers/c-1", {"name": ""}),
        ("PUT", "/customers/c-1", {"name": "Ada", "tier": "gold"}),
        ("PUT", "/customers/c-1", {"name": "Ada", "unknown": 1}),
        ("PUT", "/customers/bad id!", {"name": "Ada"}),
    ],
)
def test_malformed_requests_answer_422_in_the_error_shape(method: str, path: str, body: Any) -> None:
    response = call(method, path, body)
    assert response["statusCode"] == 422
    assert _body(response)["code"] == "validation_error"


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/x-www-form-urlencoded", "text/plain"])
def test_a_body_that_is_not_json_is_415(content_type: str) -> None:
    # When a body comes as anything but JSON, Then 415 before any parsing, in the error shape
    response = call("PUT", "/customers/c-1", {"name": "Ada"}, {"Content-Type": content_type})
    assert (response["statusCode"], _body(response)["code"]) == (415, "unsupported_media_type")


def test_a_body_that_is_not_utf8_is_400() -> None:
    # Given a body API Gateway passed base64-encoded because it is not text
    event = {
        "resource": "/customers/{customer_id}",
        "path": "/customers/c-1",
        "httpMethod": "PUT",
        "headers": {"Content-Type": "application/json"},
        "requestContext": {"stage": "test", "requestId": "r-1"},
        "body": base64.b64encode(b"\xff\xfe{").decode(),
        "isBase64Encoded": True,
    }
    # When it is resolved, Then 400 in the error shape (not a crash)
    response = handler(event, FakeLambdaContext())
    assert (response["statusCode"], _body(response)["code"]) == (400, "unreadable_body")


def test_unknown_records_answer_404() -> None:
    assert call("GET", "/customers/nobody")["statusCode"] == 404
    assert _body(call("GET", "/cases/case-0"))["code"] == "not_found"


def test_the_committed_openapi_document_is_current() -> None:
    # Given the routes as coded, Then workers/crm_api/openapi.json is what they generate
    # (regenerate with: python -m workers.crm_api.openapi)
    assert OPENAPI_PATH.read_text(encoding="utf-8") == openapi_document()
