"""The local gateway's Lambda authorizers: identity sources, the policy, the context, the per-identity cache."""

from __future__ import annotations

import json
from typing import Any

from supportflow.local.apigateway.proxy import HttpRequest
from supportflow.local.apigateway.server import RestApiGateway
from supportflow.local.apigateway.spec import AuthorizerSpec, RestApiSpec, Route

AUTHORIZER = AuthorizerSpec(
    authorizer_id="au1",
    name="TenantAuthorizer",
    type="REQUEST",
    identity_source="method.request.header.x-api-key",
    ttl_seconds=60,
    function_logical_id="AuthFn",
    handler="x.y",
)
SCHEMA = json.dumps({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}})
SPEC = RestApiSpec(
    api_id="api9",
    name="public",
    function_logical_id="Fn",
    handler="x.z",
    routes=[
        Route("POST", "/feedback", "r1", api_key_required=True, authorizer_id="au1", body_schema=SCHEMA),
        Route("GET", "/tickets/{id}", "r2", api_key_required=True, authorizer_id="au1"),
    ],
    stages={"dev": {"acme-key": "k1", "globex-key": "k2", "nobody-key": "k3"}},
    authorizers={"au1": AUTHORIZER},
    gateway_responses={"ACCESS_DENIED": {"statusCode": "403", "template": '{"code": "access_denied"}'}},
)


class FakeAuthorizerFunction:
    """Stands in for the authorizer process: allows acme, denies globex, fails 'Unauthorized' otherwise."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        key = event["headers"]["x-api-key"]
        if key not in ("acme-key", "globex-key"):
            raise PermissionError("Unauthorized")
        tenant = key.removesuffix("-key")
        effect = "Allow" if tenant == "acme" else "Deny"
        resource = event["methodArn"].split("/", 1)[0] + "/dev/*"
        return {
            "principalId": tenant,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
            },
            "context": {"tenantId": tenant, "remainingDaily": 42, "paid": True},
        }

    def stop(self) -> None:
        """Nothing to end."""


def _gateway() -> tuple[RestApiGateway, FakeAuthorizerFunction, list[dict[str, Any]]]:
    from supportflow.local.apigateway.authorizers import Authorizers  # noqa: PLC0415

    function = FakeAuthorizerFunction()
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "body": "{}"}

    spec = RestApiSpec.from_json(json.loads(json.dumps(SPEC.to_json())))
    gateway = RestApiGateway(spec, handler, authorizers=Authorizers(spec.authorizers, {"au1": function}))
    return gateway, function, seen


def _request(method: str, path: str, key: str | None, body: bytes = b"") -> HttpRequest:
    headers = [("Content-Type", "application/json")] + ([("x-api-key", key)] if key else [])
    return HttpRequest(method=method, path=path, query="", headers=headers, body=body)


def test_an_allowed_caller_reaches_the_function_with_the_authorizer_context_as_strings() -> None:
    # Given acme's key, When it reads a ticket
    gateway, _, seen = _gateway()
    response = gateway.handle(_request("GET", "/dev/tickets/t-1", "acme-key"))
    # Then the function ran with principalId and the context in requestContext.authorizer
    assert response.status == 200
    authorizer = seen[0]["requestContext"]["authorizer"]
    assert (authorizer["principalId"], authorizer["tenantId"], authorizer["remainingDaily"]) == ("acme", "acme", "42")
    assert authorizer["paid"] == "true"


def test_a_denied_caller_gets_the_apis_access_denied_response_and_the_function_never_runs() -> None:
    # Given globex is denied by its policy, When it calls
    gateway, _, seen = _gateway()
    response = gateway.handle(_request("GET", "/dev/tickets/t-1", "globex-key"))
    # Then 403 with the template's ACCESS_DENIED body
    assert (response.status, json.loads(response.body)) == (403, {"code": "access_denied"})
    assert seen == []


def test_unknown_and_missing_credentials_are_401_and_a_missing_identity_never_invokes() -> None:
    # Given an unknown key and no key at all
    gateway, function, _ = _gateway()
    unknown = gateway.handle(_request("GET", "/dev/tickets/t-1", "nobody-key"))
    missing = gateway.handle(_request("GET", "/dev/tickets/t-1", None))
    # Then both are 401 and only the unknown key reached the authorizer
    assert (unknown.status, missing.status) == (401, 401)
    assert len(function.events) == 1


def test_the_result_is_cached_per_identity_for_its_ttl() -> None:
    # Given acme calls three routes, and globex once
    gateway, function, _ = _gateway()
    gateway.handle(_request("GET", "/dev/tickets/a", "acme-key"))
    gateway.handle(_request("GET", "/dev/tickets/b", "acme-key"))
    gateway.handle(_request("POST", "/dev/feedback", "acme-key", b'{"text": "hi"}'))
    gateway.handle(_request("GET", "/dev/tickets/a", "globex-key"))
    # Then the authorizer ran once per identity
    assert [e["headers"]["x-api-key"] for e in function.events] == ["acme-key", "globex-key"]


def test_a_body_failing_its_model_is_refused_400_before_the_function() -> None:
    # Given an allowed caller, When its body lacks a required field
    gateway, _, seen = _gateway()
    response = gateway.handle(_request("POST", "/dev/feedback", "acme-key", b'{"rating": 5}'))
    # Then API Gateway's 400 and the function never ran
    assert response.status == 400
    assert seen == []
