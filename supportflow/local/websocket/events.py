"""The events API Gateway hands a WebSocket API's functions: $connect / $disconnect / message routes, authorizer."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from typing import Any

from websockets.http11 import Request


def new_connection_id() -> str:
    """An id shaped like API Gateway's (12 random bytes, base64: ``L0SM9cOFvHcCIhw=``)."""
    return base64.b64encode(os.urandom(10)).decode()


def request_context(
    *,
    api_id: str,
    stage: str,
    domain_name: str,
    connection_id: str,
    route_key: str,
    event_type: str,
    connected_at_ms: int,
    source_ip: str,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``requestContext`` of a WebSocket event."""
    now = time.time()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex[:16],
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_at_ms,
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": source_ip},
        "requestId": uuid.uuid4().hex[:16],
        "domainName": domain_name,
        "connectionId": connection_id,
        "apiId": api_id,
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return context


def connect_event(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    """The $connect event: the handshake's headers and query string."""
    _, _, query = request.path.partition("?")
    parameters = dict(pair.partition("=")[::2] for pair in query.split("&") if pair) or None
    headers = {name: value for name, value in request.headers.raw_items()}
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": parameters,
        "requestContext": context,
        "isBase64Encoded": False,
    }


def authorizer_event(request: Request, context: dict[str, Any], method_arn: str) -> dict[str, Any]:
    """A REQUEST authorizer's event on $connect (API Gateway sends ``methodArn`` and the handshake)."""
    return {**connect_event(request, context), "type": "REQUEST", "methodArn": method_arn}


def message_event(body: str | bytes, context: dict[str, Any]) -> dict[str, Any]:
    """A message route's event (binary frames arrive base64-encoded)."""
    if isinstance(body, bytes):
        return {"requestContext": context, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(context: dict[str, Any], status_code: int, reason: str) -> dict[str, Any]:
    """The $disconnect event."""
    return {
        "headers": {},
        "requestContext": {**context, "disconnectStatusCode": status_code, "disconnectReason": reason},
        "isBase64Encoded": False,
    }


def select_route(body: str | bytes, expression: str, routes: frozenset[str]) -> str:
    """The route key a frame selects (``$request.body.<path>``), ``$default`` when it names none of ours."""
    if isinstance(body, bytes) or not expression.startswith("$request.body."):
        return "$default"
    try:
        value: Any = json.loads(body)
    except ValueError:
        return "$default"
    for part in expression.removeprefix("$request.body.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value in routes else "$default"


def has_identity(request: Request, sources: tuple[str, ...]) -> bool:
    """Whether the handshake carries every identity source (``route.request.header.X`` / ``.querystring.X``)."""
    _, _, query = request.path.partition("?")
    parameters = {name for name, _, _ in (pair.partition("=") for pair in query.split("&") if pair)}
    for source in sources:
        header = source.removeprefix("route.request.header.")
        if header != source and request.headers.get(header) is None:
            return False
        parameter = source.removeprefix("route.request.querystring.")
        if parameter != source and parameter not in parameters:
            return False
    return True


def policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    """Whether an authorizer's policy allows ``execute-api:Invoke`` on the $connect ARN (an explicit Deny wins)."""
    allowed = False
    for statement in policy.get("policyDocument", {}).get("Statement", []):
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(a in ("execute-api:Invoke", "execute-api:*", "*") for a in actions):
            continue
        if not any(_arn_matches(r, method_arn) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _arn_matches(pattern: str, arn: str) -> bool:
    import fnmatch  # noqa: PLC0415

    return fnmatch.fnmatchcase(arn, pattern)
