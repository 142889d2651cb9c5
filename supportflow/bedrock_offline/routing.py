"""Routing: the request as the router sees it, the typed per-request context, and the route table."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from supportflow.bedrock_offline.conversation import BedrockError
from supportflow.bedrock_offline.faults import STREAMING_OPERATIONS, Fault

BANK_HEADER = "x-supportflow-bank"  # "off" = zero-shot only, for measuring the general case


@dataclass
class Request:
    """An HTTP request as the router sees it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    query: str = ""  # the raw query string (ListModelInvocationJobs filters arrive there)

    def json(self) -> dict[str, Any]:
        """The body parsed as a JSON object."""
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise BedrockError(400, "SerializationException", f"Could not parse request body: {exc}") from exc
        if not isinstance(data, dict):
            raise BedrockError(400, "SerializationException", "Request body must be a JSON object.")
        return data


@dataclass
class Response:
    """A full body, or an iterator of event-stream frames sent as chunked transfer."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: Iterator[bytes] | None = None


@dataclass(frozen=True)
class RequestContext:
    """What dispatch decided about one request, handed to its operation (typed, not strings in a dict)."""

    operation: str
    request_id: str
    model_id: str = ""
    use_bank: bool = True
    fault: Fault = field(default_factory=Fault)
    path_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def streaming(self) -> bool:
        """True for the operations answered as an event stream."""
        return self.operation in STREAMING_OPERATIONS


Handler = Callable[[Request, RequestContext], Response]


@dataclass
class Route:
    """One REST route: method, path regex with named groups, operation name for counting."""

    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler


class Router:
    """REST routes plus JSON-1.1 ``X-Amz-Target`` operations (for the data-automation runtime later)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.targets: dict[str, Handler] = {}

    def add(self, method: str, pattern: str, operation: str, handler: Handler) -> None:
        """Register a REST route; ``pattern`` is matched against the raw (still URL-encoded) path."""
        self.routes.append(Route(method, re.compile(pattern), operation, handler))

    def add_target(self, target: str, handler: Handler) -> None:
        """Register a JSON-1.1 operation such as ``AmazonBedrockKeystoneRuntimeService.InvokeDataAutomationAsync``."""
        self.targets[target] = handler

    def match(self, request: Request) -> tuple[str, Handler, dict[str, str]] | None:
        """Find the operation for a request."""
        target = request.headers.get("X-Amz-Target")
        if target and request.method == "POST" and target in self.targets:
            return target.rsplit(".", 1)[-1], self.targets[target], {}
        for route in self.routes:
            if route.method != request.method:
                continue
            hit = route.pattern.fullmatch(request.path)
            if hit:
                return route.operation, route.handler, {k: unquote(v) for k, v in hit.groupdict().items()}
        return None


def error_response(error: BedrockError, request_id: str) -> Response:
    """Bedrock's error shape: status, ``x-amzn-ErrorType`` header, ``{"message": ...}``."""
    body = json.dumps({"message": error.message}).encode()
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": error.error_type,
        "x-amzn-RequestId": request_id,
    }
    return Response(status=error.status, headers=headers, body=body)
