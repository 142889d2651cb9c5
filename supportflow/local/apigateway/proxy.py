"""An HTTP request as the API Gateway REST proxy event (format 1.0), and the handler's answer back."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from supportflow.local.apigateway.spec import RestApiSpec, Route


@dataclass(frozen=True)
class HttpRequest:
    """What the server read off the socket."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpResponse:
    """What goes back on the socket."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_error(status: int, message: str, request_id: str) -> HttpResponse:
    """An answer API Gateway itself gives (``{"message": ...}``), before any function runs."""
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", _TYPES[status])],
        json.dumps({"message": message}).encode(),
    )


_TYPES = {
    400: "BadRequestException",
    401: "UnauthorizedException",
    403: "ForbiddenException",
    413: "RequestTooLargeException",
    500: "AuthorizerConfigurationException",
    502: "InternalServerErrorException",
}


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # the last value wins, as in API Gateway's single-value map
        multi.setdefault(name, []).append(value)
    return (single or None, multi or None)


def proxy_event(
    spec: RestApiSpec,
    route: Route,
    parameters: dict[str, str],
    request: HttpRequest,
    *,
    stage: str,
    path: str,
    request_id: str,
) -> dict[str, Any]:
    """The REST proxy event for ``request`` (``path`` is without the stage, as API Gateway sends it)."""
    headers, multi_headers = _single_and_multi(request.headers)
    query, multi_query = _single_and_multi(parse_qsl(request.query, keep_blank_values=True))
    lowered = {name.lower(): value for name, value in request.headers}
    api_key = lowered.get("x-api-key")
    try:
        body: str | None = request.body.decode("utf-8") if request.body else None
        encoded = False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode(), True
    now = time.time()
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": spec.api_id,
            "resourceId": route.resource_id,
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "protocol": "HTTP/1.1",
            "domainName": lowered.get("host", "127.0.0.1"),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": lowered.get("user-agent"),
                "apiKey": api_key if route.api_key_required else None,
                "apiKeyId": spec.stages.get(stage, {}).get(api_key or "") if route.api_key_required else None,
            },
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def http_response(result: Any, request_id: str) -> HttpResponse:
    """The handler's proxy response as HTTP; anything malformed is API Gateway's 502."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return gateway_error(502, "Internal server error", request_id)
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.append(("x-amzn-RequestId", request_id))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpResponse(int(result["statusCode"]), headers, body)


def new_request_id() -> str:
    """A request id like API Gateway's."""
    return str(uuid.uuid4())
