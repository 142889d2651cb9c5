"""What a local REST API server needs, read back from the emulator as API Gateway holds it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources import FunctionSpec

# arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function arn}/invocations
_LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")


@dataclass(frozen=True)
class AuthorizerSpec:
    """One ``AWS::ApiGateway::Authorizer`` as read back from the emulator."""

    authorizer_id: str
    name: str
    type: str  # TOKEN | REQUEST
    identity_source: str
    ttl_seconds: int
    function_logical_id: str
    handler: str
    timeout_seconds: int = 30
    environment_file: str | None = None


@dataclass(frozen=True)
class Route:
    """One method on one resource path template (``/customers/{id}``, ``/{proxy+}``)."""

    method: str
    resource: str
    resource_id: str
    api_key_required: bool
    authorizer_id: str | None = None
    # The JSON schema of the body when a validator checks it (validateRequestBody), else None.
    body_schema: str | None = None


@dataclass(frozen=True)
class RestApiSpec:
    """A deployed REST API: its stages, routes, the handler behind them and the keys each stage accepts."""

    api_id: str
    name: str
    function_logical_id: str
    handler: str
    routes: list[Route]
    # stage name -> {key value: key id}: enabled keys of the usage plans that include that stage.
    stages: dict[str, dict[str, str]] = field(default_factory=dict)
    authorizers: dict[str, AuthorizerSpec] = field(default_factory=dict)
    # response type (ACCESS_DENIED, UNAUTHORIZED, BAD_REQUEST_BODY, ...) -> {"statusCode", "template"}.
    gateway_responses: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A plain mapping, for the server process."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RestApiSpec:
        """The inverse of :meth:`to_json`."""
        return cls(
            **{
                **data,
                "routes": [Route(**route) for route in data["routes"]],
                "authorizers": {k: AuthorizerSpec(**v) for k, v in (data.get("authorizers") or {}).items()},
            }
        )


def describe_rest_api(apigateway: Any, api_id: str, functions: dict[str, FunctionSpec]) -> RestApiSpec:
    """Routes, integrations, stages and their usable API keys of ``api_id``, through the API Gateway API."""
    by_arn = {function.arn: function for function in functions.values()}
    name = str(apigateway.get_rest_api(restApiId=api_id)["name"])
    routes: list[Route] = []
    targets: set[str] = set()
    authorizers = _authorizers(apigateway, api_id, by_arn)
    for resource in _all(apigateway.get_resources, restApiId=api_id):
        for method in resource.get("resourceMethods") or {}:
            detail = apigateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method)
            uri = str((detail.get("methodIntegration") or {}).get("uri", ""))
            match = _LAMBDA_URI.match(uri)
            if match is None or match.group("arn") not in by_arn:
                msg = f"API {name}: {method} {resource['path']} is not a Lambda proxy integration of this template"
                raise TemplateError(msg)
            targets.add(match.group("arn"))
            routes.append(
                Route(
                    method,
                    str(resource["path"]),
                    str(resource["id"]),
                    bool(detail.get("apiKeyRequired")),
                    authorizer_id=detail.get("authorizerId") if detail.get("authorizationType") == "CUSTOM" else None,
                    body_schema=_body_schema(apigateway, api_id, detail),
                )
            )
    if len(targets) != 1:
        # One process runs one function with its environment, as one Lambda would.
        msg = f"API {name}: served locally only when its routes go to exactly one function (found {len(targets)})"
        raise TemplateError(msg)
    function = by_arn[targets.pop()]
    return RestApiSpec(
        api_id=api_id,
        name=name,
        function_logical_id=function.logical_id,
        handler=function.handler,
        routes=routes,
        stages={
            str(stage["stageName"]): stage_keys(apigateway, api_id, str(stage["stageName"]))
            for stage in apigateway.get_stages(restApiId=api_id).get("item") or []
        },
        authorizers=authorizers,
        gateway_responses={
            str(r["responseType"]): {
                "statusCode": str(r.get("statusCode", "")),
                "template": str((r.get("responseTemplates") or {}).get("application/json", "")),
            }
            for r in apigateway.get_gateway_responses(restApiId=api_id).get("items") or []
            if not r.get("defaultResponse")
        },
    )


def _authorizers(apigateway: Any, api_id: str, by_arn: dict[str, FunctionSpec]) -> dict[str, AuthorizerSpec]:
    """The API's Lambda authorizers and the template functions they run."""
    found: dict[str, AuthorizerSpec] = {}
    for authorizer in _all(apigateway.get_authorizers, restApiId=api_id):
        match = _LAMBDA_URI.match(str(authorizer.get("authorizerUri", "")))
        if match is None or match.group("arn") not in by_arn:
            msg = f"authorizer {authorizer.get('name')}: not a Lambda function of this template"
            raise TemplateError(msg)
        function = by_arn[match.group("arn")]
        found[str(authorizer["id"])] = AuthorizerSpec(
            authorizer_id=str(authorizer["id"]),
            name=str(authorizer.get("name", "")),
            type=str(authorizer.get("type", "TOKEN")),
            identity_source=str(authorizer.get("identitySource", "")),
            ttl_seconds=int(authorizer.get("authorizerResultTtlInSeconds", 300)),
            function_logical_id=function.logical_id,
            handler=function.handler,
            timeout_seconds=function.timeout_seconds,
        )
    return found


def _body_schema(apigateway: Any, api_id: str, detail: dict[str, Any]) -> str | None:
    """The JSON-body model's schema when the method's validator checks bodies."""
    model = (detail.get("requestModels") or {}).get("application/json")
    if not model or not detail.get("requestValidatorId"):
        return None
    validator = apigateway.get_request_validator(restApiId=api_id, requestValidatorId=detail["requestValidatorId"])
    if not validator.get("validateRequestBody"):
        return None
    return str(apigateway.get_model(restApiId=api_id, modelName=model)["schema"])


def stage_keys(apigateway: Any, api_id: str, stage: str) -> dict[str, str]:
    """Enabled keys in a usage plan of this API stage: exactly the ones API Gateway would accept."""
    keys: dict[str, str] = {}
    for plan in _all(apigateway.get_usage_plans):
        if not any(s.get("apiId") == api_id and s.get("stage") == stage for s in plan.get("apiStages") or []):
            continue
        for plan_key in _all(apigateway.get_usage_plan_keys, usagePlanId=plan["id"]):
            key = apigateway.get_api_key(apiKey=plan_key["id"], includeValue=True)
            if key.get("enabled", True) and key.get("value"):
                keys[str(key["value"])] = str(key["id"])
    return keys


def _all(call: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    position: str | None = None
    while True:
        page = call(**kwargs, **({"position": position} if position else {}))
        items.extend(page.get("items") or [])
        position = page.get("position")
        if not position:
            return items


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick, and the path parameters; literal segments win over {params}."""
    parts = [p for p in path.split("/") if p]
    best: tuple[tuple[int, int], Route, dict[str, str]] | None = None
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        parameters = _match(route.resource, parts)
        if parameters is None:
            continue
        template = [p for p in route.resource.split("/") if p]
        rank = (sum(not p.startswith("{") for p in template), int(route.method != "ANY"))
        if best is None or rank > best[0]:
            best = (rank, route, parameters)
    return (best[1], best[2]) if best else None


def _match(resource: str, parts: list[str]) -> dict[str, str] | None:
    template = [p for p in resource.split("/") if p]
    parameters: dict[str, str] = {}
    for index, segment in enumerate(template):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = parts[index:]
            if not rest:
                return None
            parameters[segment[1:-2]] = "/".join(rest)
            return parameters
        if index >= len(parts):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            parameters[segment[1:-1]] = parts[index]
        elif segment != parts[index]:
            return None
    return parameters if len(template) == len(parts) else None
