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

from supportflow.local.apigateway.proxy import (
    HttpRequest,
    HttpResponse,
    gateway_error,
    http_response,
    new_request_id,
    proxy_event,
)
from supportflow.local.apigateway.spec import RestApiSpec, match_route
from workers.shared.runtime.logs import configure_json_logging

logger = logging.getLogger("supportflow.apigateway")

Handler = Callable[[dict[str, Any], Any], Any]
# API Gateway's payload limit.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
_PARENT_CHECK_SECONDS = 1.0


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

    def __init__(self, spec: RestApiSpec, handler: Handler, *, timeout_seconds: int = 29, memory_mb: int = 128) -> None:
        self.spec = spec
        self.handler = handler
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        # One function instance serves one request at a time, as a Lambda execution environment does.
        self._invoke_lock = threading.Lock()

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
        if route.api_key_required:
            key = next((value for name, value in request.headers if name.lower() == "x-api-key"), None)
            if key is None or key not in self.spec.stages[stage]:
                return gateway_error(403, "Forbidden", request_id)
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return gateway_error(413, "Request Too Long", request_id)
        event = proxy_event(self.spec, route, parameters, request, stage=stage, path=path, request_id=request_id)
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
    gateway = RestApiGateway(spec, _load_handler(spec.handler), timeout_seconds=args.timeout, memory_mb=args.memory)
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
    return 0


def _watch_parent(parent_pid: int, server: ThreadingHTTPServer) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_CHECK_SECONDS)
    server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
