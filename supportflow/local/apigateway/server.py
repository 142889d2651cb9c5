"""One local REST API: HTTP on 127.0.0.1 in, API Gateway's checks, the proxy event to the function's handler.

Run by the local stack, one process per API, with the function's environment (as its Lambda has)::

    python -m supportflow.local.apigateway.server --spec SPEC.json --port 0 --ready-file F
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from supportflow.local.apigateway.authorizers import AuthorizerError, Authorizers, method_arn
from supportflow.local.apigateway.proxy import (
    HttpRequest,
    HttpResponse,
    gateway_error,
    http_response,
    new_request_id,
    proxy_event,
)
from supportflow.local.apigateway.spec import RestApiSpec, Route, match_route, stage_keys
from workers.shared.runtime.logs import configure_json_logging

logger = logging.getLogger("supportflow.apigateway")

Handler = Callable[[dict[str, Any], Any], Any]
# API Gateway's payload limit.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
_PARENT_CHECK_SECONDS = 1.0
_KEY_REFRESH_SECONDS = 1.0


def body_problem(schema: str, body: bytes) -> str | None:
    """Why a body fails its model (API Gateway's request validator), or None when it passes."""
    import jsonschema  # type: ignore[import-untyped]  # noqa: PLC0415 - only APIs with validated bodies need it

    try:
        document = json.loads(body or b"null")
    except ValueError:
        return "Invalid JSON in request body"
    errors = sorted(jsonschema.Draft4Validator(json.loads(schema)).iter_errors(document), key=str)
    if not errors:
        return None
    # API Gateway lists the failed checks, not the offending values.
    return "[" + ", ".join(f"{e.validator} violation at {'/'.join(map(str, e.path)) or '(root)'}" for e in errors) + "]"


class _Context:
    """The parts of the Lambda context object handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: int, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class RestApiGateway:
    """API Gateway's part of a request: stage, route, API key, payload limit; then one handler invoke."""

    def __init__(
        self,
        spec: RestApiSpec,
        handler: Handler,
        *,
        timeout_seconds: int = 29,
        memory_mb: int = 128,
        authorizers: Authorizers | None = None,
        refresh_keys: Callable[[str], dict[str, str]] | None = None,
    ) -> None:
        self.spec = spec
        self.handler = handler
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        self.authorizers = authorizers or Authorizers(spec.authorizers)
        # Keys created after the server started (a new tenant's) are read again on a miss.
        self._refresh_keys = refresh_keys
        self._keys_read_at = 0.0
        # One function instance serves one request at a time, as a Lambda execution environment does.
        self._invoke_lock = threading.Lock()

    def _authorize(
        self, authorizer_id: str, request: HttpRequest, event: dict[str, Any], *, stage: str, path: str, request_id: str
    ) -> HttpResponse | None:
        """Run the route's authorizer; put its context on the event, or answer as API Gateway would."""
        arn = method_arn(self.spec.api_id, stage, request.method, path)
        try:
            result = self.authorizers.authorize(authorizer_id, request, event, arn)
        except AuthorizerError:
            logger.exception("authorizer failed", extra={"api": self.spec.name, "request_id": request_id})
            return self._refuse("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error", request_id)
        if result.status == 401:
            return self._refuse("UNAUTHORIZED", 401, "Unauthorized", request_id)
        if not result.allowed:
            message = "User is not authorized to access this resource with an explicit deny"
            return self._refuse("ACCESS_DENIED", 403, message, request_id)
        authorizer: dict[str, Any] = {"principalId": result.principal_id, "integrationLatency": 0, **result.context}
        event["requestContext"]["authorizer"] = authorizer
        return None

    def _key_accepted(self, stage: str, request: HttpRequest) -> bool:
        key = next((value for name, value in request.headers if name.lower() == "x-api-key"), None)
        if key is None:
            return False
        if (
            key not in self.spec.stages.get(stage, {})
            and self._refresh_keys is not None
            and time.monotonic() - self._keys_read_at > _KEY_REFRESH_SECONDS
        ):
            self._keys_read_at = time.monotonic()
            self.spec.stages[stage] = self._refresh_keys(stage)
        return key in self.spec.stages.get(stage, {})

    def _refuse(
        self, response_type: str, status: int, message: str, request_id: str, validation: str = ""
    ) -> HttpResponse:
        """API Gateway's own answer, shaped by the API's gateway response of that type when it has one."""
        custom = self.spec.gateway_responses.get(response_type)
        if custom is None:
            return gateway_error(status, message, request_id)
        body = custom.get("template") or json.dumps({"message": message})
        body = body.replace("$context.error.message", json.dumps(message)[1:-1])
        body = body.replace("$context.error.validationErrorString", json.dumps(validation)[1:-1])
        code = int(custom.get("statusCode") or status)
        return HttpResponse(
            code, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], body.encode()
        )

    def _gate(
        self, route: Route, request: HttpRequest, event: dict[str, Any], *, stage: str, path: str, request_id: str
    ) -> HttpResponse | None:
        """API Gateway's checks in its order: authorizer, API key, payload size, body model."""
        if route.authorizer_id:
            refusal = self._authorize(
                route.authorizer_id, request, event, stage=stage, path=path, request_id=request_id
            )
            if refusal is not None:
                return refusal
        if route.api_key_required and not self._key_accepted(stage, request):
            return self._refuse("INVALID_API_KEY", 403, "Forbidden", request_id)
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return gateway_error(413, "Request Too Long", request_id)
        if route.body_schema is not None:
            problem = body_problem(route.body_schema, request.body)
            if problem is not None:
                return self._refuse("BAD_REQUEST_BODY", 400, "Invalid request body", request_id, problem)
        return None

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request as API Gateway and the function together would."""
        request_id = new_request_id()
        stage, _, rest = request.path.lstrip("/").partition("/")
        if stage not in self.spec.stages:
            return gateway_error(403, "Forbidden", request_id)
        path = "/" + rest
        matched = match_route(self.spec.routes, request.method, path)
        if matched is None:
            return gateway_error(403, "Missing Authentication Token", request_id)
        route, parameters = matched
        event = proxy_event(self.spec, route, parameters, request, stage=stage, path=path, request_id=request_id)
        refusal = self._gate(route, request, event, stage=stage, path=path, request_id=request_id)
        if refusal is not None:
            return refusal
        context = _Context(self.spec.name, self.timeout_seconds, self.memory_mb)
        started = time.monotonic()
        try:
            with self._invoke_lock:
                result = self.handler(event, context)
        except Exception:
            logger.exception("handler raised", extra={"api": self.spec.name, "request_id": request_id})
            return gateway_error(502, "Internal server error", request_id)
        response = http_response(result, request_id)
        logger.info(
            "request served",
            extra={
                "api": self.spec.name,
                "request_id": request_id,
                "method": request.method,
                "resource": route.resource,
                "status": response.status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response


def _request_handler(gateway: RestApiGateway) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            request = HttpRequest(
                method=self.command,
                path=path,
                query=query,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            response = gateway.handle(request)
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches API Gateway's routing (an unknown one answers its 403, not a 501).
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            """Access logs go through ``request served`` instead."""

    return _Handler


def _load_handler(dotted: str) -> Handler:
    import importlib  # noqa: PLC0415

    module_name, _, attribute = dotted.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    if not callable(handler):
        msg = f"handler {dotted!r} is not callable"
        raise TypeError(msg)
    return handler  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """Serve one API until SIGTERM or until the parent process is gone."""
    parser = argparse.ArgumentParser(prog="python -m supportflow.local.apigateway.server")
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=29)
    parser.add_argument("--memory", type=int, default=128)
    parser.add_argument("--ready-file", type=Path, default=None, help="the bound port is written here")
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)
    spec = RestApiSpec.from_json(json.loads(args.spec.read_text(encoding="utf-8")))
    configure_json_logging(service=f"apigateway:{spec.name}")
    gateway = RestApiGateway(
        spec,
        _load_handler(spec.handler),
        timeout_seconds=args.timeout,
        memory_mb=args.memory,
        refresh_keys=_key_reader(spec),
    )
    server = ThreadingHTTPServer((args.host, args.port), _request_handler(gateway))
    server.daemon_threads = True

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(args.parent_pid, server), daemon=True).start()
    if args.ready_file is not None:
        args.ready_file.write_text(str(server.server_address[1]), encoding="utf-8")
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    gateway.authorizers.stop()
    return 0


def _key_reader(spec: RestApiSpec) -> Callable[[str], dict[str, str]] | None:
    """Reads a stage's usable keys again from the emulator the function's environment points at."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return None
    import boto3  # noqa: PLC0415

    client = boto3.client("apigateway")
    return lambda stage: stage_keys(client, spec.api_id, stage)


def _watch_parent(parent_pid: int, server: ThreadingHTTPServer) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_CHECK_SECONDS)
    server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
