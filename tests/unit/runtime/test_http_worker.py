"""The HTTP worker runtime: routes read a service built once per handler, never a module global."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field
from pydantic_settings import BaseSettings

from tests.unit.fakes import FakeLambdaContext
from workers.shared.runtime.http import http_worker, service_of
from workers.shared.runtime.worker import WorkerMisconfigured


class Counter:
    """A service with state, so a rebuilt service would show."""

    def __init__(self) -> None:
        self.calls = 0

    def next(self) -> int:
        """Count one more call."""
        self.calls += 1
        return self.calls


def routes() -> APIGatewayRestResolver:
    """One route that reads the service from the request context."""
    app = APIGatewayRestResolver()

    @app.get("/count")
    def count() -> dict[str, int]:
        return {"count": service_of(app, Counter).next()}

    return app


def get(handler: Any, path: str = "/count") -> dict[str, Any]:
    """A REST proxy GET as API Gateway sends it."""
    event: dict[str, Any] = {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "requestContext": {},
        "body": None,
    }
    response: dict[str, Any] = handler(event, FakeLambdaContext())
    return response


def test_the_service_is_built_once_and_kept_across_requests() -> None:
    # Given a handler whose wiring counts how often it runs
    builds: list[Counter] = []

    def build() -> Counter:
        builds.append(Counter())
        return builds[-1]

    handler = http_worker(routes(), build)
    # When three requests arrive
    bodies = [json.loads(get(handler)["body"]) for _ in range(3)]
    # Then one service served them all, in order
    assert [body["count"] for body in bodies] == [1, 2, 3]
    assert len(builds) == 1


def test_a_guard_answers_before_routing_and_the_service_is_not_built() -> None:
    # Given a guard that refuses everything
    built: list[Counter] = []

    def build() -> Counter:
        built.append(Counter())
        return built[-1]

    refused: dict[str, Any] = {"statusCode": 415, "headers": {}, "body": "{}", "isBase64Encoded": False}
    handler = http_worker(routes(), build, guard=lambda _event: refused)
    # When a request arrives, Then the guard's answer is returned and nothing was wired
    assert get(handler)["statusCode"] == 415
    assert built == []


def test_missing_settings_name_the_field_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given wiring whose settings lack a variable
    class Settings(BaseSettings):
        crm_table_name: str = Field(min_length=1)

    monkeypatch.delenv("CRM_TABLE_NAME", raising=False)
    handler = http_worker(routes(), lambda: (Settings(), Counter())[1])
    # When a request arrives, Then the failure names the field
    with pytest.raises(WorkerMisconfigured, match="crm_table_name"):
        get(handler)


def test_a_route_called_outside_its_handler_says_so() -> None:
    # Given the routes resolved directly, without the HttpWorker that puts the service in the context
    app = routes()
    event = {"resource": "/count", "path": "/count", "httpMethod": "GET", "headers": {}, "requestContext": {}}
    # When it is resolved, Then the route explains what is missing
    with pytest.raises(TypeError, match="HttpWorker"):
        app.resolve(event, cast(LambdaContext, FakeLambdaContext()))
