"""One local WebSocket API: the socket on one port, its ``@connections`` management API on another.

API Gateway's part of a connection: the $connect authorizer (policy and context honoured), the $connect
route (a non-2xx answer refuses the handshake), a route per frame by the selection expression, $disconnect
once the socket is gone. The functions post back through ``POST /{stage}/@connections/{id}``; a vanished
connection answers 410 GoneException, as AWS does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from supportflow.local.websocket import events
from supportflow.local.websocket.management import management_handler

logger = logging.getLogger("supportflow.websocket")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class WebSocketApiSpec:
    """What API Gateway knows of one WebSocket API: stage, routes, the function and the $connect authorizer."""

    name: str
    api_id: str
    stage: str
    routes: frozenset[str]
    route_selection_expression: str = "$request.body.action"
    # The authorizer's identity sources: when one is missing API Gateway answers 401 without calling it.
    identity_sources: tuple[str, ...] = ()
    region: str = "us-east-1"
    account_id: str = "000000000000"

    @property
    def connect_arn(self) -> str:
        """The ARN an authorizer's policy must allow for $connect."""
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/$connect"


def spec_to_json(spec: WebSocketApiSpec, handler: str, authorizer: str | None, timeout_seconds: int) -> dict[str, Any]:
    """What the stack writes for the process: the API, the handler and authorizer paths, the timeout."""
    return {
        "name": spec.name,
        "api_id": spec.api_id,
        "stage": spec.stage,
        "routes": sorted(spec.routes),
        "route_selection_expression": spec.route_selection_expression,
        "identity_sources": list(spec.identity_sources),
        "region": spec.region,
        "account_id": spec.account_id,
        "handler": handler,
        "authorizer": authorizer,
        "timeout_seconds": timeout_seconds,
    }


@dataclass
class _Connection:
    socket: ServerConnection
    connection_id: str
    connected_at_ms: int
    source_ip: str
    user_agent: str
    authorizer: dict[str, Any] | None
    last_active_ms: int = 0
    send_lock: threading.Lock = field(default_factory=threading.Lock)


class _Context:
    """The parts of the Lambda context handlers read."""

    def __init__(self, function_name: str, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = events.new_connection_id()
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class WebSocketGateway:
    """One WebSocket API on 127.0.0.1: ``url`` for clients, ``management_endpoint`` for its functions."""

    def __init__(
        self,
        spec: WebSocketApiSpec,
        handler: Handler,
        *,
        authorizer: Handler | None = None,
        timeout_seconds: int = 29,
        host: str = "127.0.0.1",
    ) -> None:
        self.spec = spec
        self.handler = handler
        self.authorizer = authorizer
        self.timeout_seconds = timeout_seconds
        self.host = host
        self._connections: dict[str, _Connection] = {}
        self._pending: dict[int, _Connection] = {}
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._management: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._in_flight = 0
        self._port = 0
        self._idle = threading.Condition()

    # ---- lifecycle --------------------------------------------------------------------------------

    def start(self, port: int = 0, management_port: int = 0) -> None:
        """Bind both ports and serve in background threads."""
        self._management = ThreadingHTTPServer((self.host, management_port), management_handler(self))
        self._management.daemon_threads = True
        self._server = serve(self._serve, self.host, port, process_request=self._handshake, compression=None)
        self._port = int(self._server.socket.getsockname()[1])
        for target in (self._server.serve_forever, self._management.serve_forever):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Close every connection and both ports."""
        if self._server is not None:
            self._server.shutdown()
        if self._management is not None:
            self._management.shutdown()
            self._management.server_close()

    @property
    def stage(self) -> str:
        """The stage this API serves."""
        return self.spec.stage

    @property
    def domain_name(self) -> str:
        """``127.0.0.1:<port>``, what the events carry as ``requestContext.domainName``."""
        return f"{self.host}:{self._port}"

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:<port>/<stage>``."""
        return f"ws://{self.domain_name}/{self.spec.stage}"

    @property
    def management_endpoint(self) -> str:
        """``http://127.0.0.1:<port>/<stage>``: the endpoint of the functions' ``apigatewaymanagementapi`` client."""
        assert self._management is not None
        return f"http://{self.host}:{self._management.server_address[1]}/{self.spec.stage}"

    def wait_idle(self, timeout: float) -> bool:
        """Block until no function invocation is running; False if one still runs after ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # ---- the management API's view ------------------------------------------------------------------

    def connection(self, connection_id: str) -> _Connection | None:
        """A live connection, or None once it is gone."""
        with self._lock:
            return self._connections.get(connection_id)

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send one frame to the connection (text when it is UTF-8); False when the connection is gone."""
        connection = self.connection(connection_id)
        if connection is None:
            return False
        try:
            payload: str | bytes = data.decode()
        except UnicodeDecodeError:
            payload = data
        try:
            with connection.send_lock:
                connection.socket.send(payload)
        except ConnectionClosed:
            self._forget(connection_id)
            return False
        return True

    def close(self, connection_id: str) -> bool:
        """Close the connection from the server side; False when it is gone."""
        connection = self.connection(connection_id)
        if connection is None:
            return False
        connection.socket.close(1000, "closed by the server")
        return True

    # ---- one connection ---------------------------------------------------------------------------

    def _context(self, connection: _Connection, route_key: str, event_type: str) -> dict[str, Any]:
        return events.request_context(
            api_id=self.spec.api_id,
            stage=self.spec.stage,
            domain_name=self.domain_name,
            connection_id=connection.connection_id,
            route_key=route_key,
            event_type=event_type,
            connected_at_ms=connection.connected_at_ms,
            source_ip=connection.source_ip,
            authorizer=connection.authorizer,
        )

    def _handshake(self, socket: ServerConnection, request: Request) -> Response | None:
        path = request.path.partition("?")[0].strip("/")
        if path != self.spec.stage:
            return socket.respond(403, "Forbidden\n")
        connection = _Connection(
            socket=socket,
            connection_id=events.new_connection_id(),
            connected_at_ms=int(time.time() * 1000),
            source_ip=str(socket.remote_address[0]),
            user_agent=request.headers.get("User-Agent", ""),
            authorizer=None,
        )
        if self.authorizer is not None:
            refused = None if events.has_identity(request, self.spec.identity_sources) else (401, "Unauthorized\n")
            refused = refused or self._authorize(connection, request)
            if refused is not None:
                return socket.respond(*refused)
        context = self._context(connection, "$connect", "CONNECT")
        # The connection exists for @connections only once the handshake completes, as on AWS.
        result = self._invoke(events.connect_event(request, context))
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        if result is _FAILED or not 200 <= status < 300:
            return socket.respond(403 if result is not _FAILED else 500, "Forbidden\n")
        with self._lock:
            self._pending[id(socket)] = connection
        return None

    def _authorize(self, connection: _Connection, request: Request) -> tuple[int, str] | None:
        context = self._context(connection, "$connect", "CONNECT")
        event = events.authorizer_event(request, context, self.spec.connect_arn)
        assert self.authorizer is not None
        try:
            policy = self.authorizer(event, _Context(f"{self.spec.name}-authorizer", self.timeout_seconds))
        except Exception as exc:  # raising "Unauthorized" is how an authorizer answers 401
            if str(exc) == "Unauthorized":
                return 401, "Unauthorized\n"
            logger.exception("authorizer raised", extra={"api": self.spec.name})
            return 500, "Internal server error\n"
        if not isinstance(policy, dict) or not events.policy_allows(policy, self.spec.connect_arn):
            return 403, "Forbidden\n"
        context_values = {k: v for k, v in (policy.get("context") or {}).items() if v is not None}
        connection.authorizer = {**context_values, "principalId": policy.get("principalId")}
        return None

    def _serve(self, socket: ServerConnection) -> None:
        with self._lock:
            connection = self._pending.pop(id(socket))
            self._connections[connection.connection_id] = connection
        code, reason = 1000, "client closed"
        try:
            for frame in socket:
                connection.last_active_ms = int(time.time() * 1000)
                route_key = events.select_route(frame, self.spec.route_selection_expression, self.spec.routes)
                event = events.message_event(frame, self._context(connection, route_key, "MESSAGE"))
                # Each frame is its own invocation: reading goes on, so a close is seen while a turn streams.
                threading.Thread(target=self._invoke, args=(event,), daemon=True).start()
        except ConnectionClosed:
            pass
        received = socket.protocol.close_rcvd
        if received is not None:
            code, reason = received.code, received.reason or reason
        else:
            code, reason = 1006, "going away"
        self._forget(connection.connection_id)
        context = self._context(connection, "$disconnect", "DISCONNECT")
        self._invoke(events.disconnect_event(context, code, reason))

    def _forget(self, connection_id: str) -> None:
        with self._lock:
            self._connections.pop(connection_id, None)

    def _invoke(self, event: dict[str, Any]) -> Any:
        route_key = event["requestContext"]["routeKey"]
        started = time.perf_counter()
        with self._idle:
            self._in_flight += 1
        try:
            result = self.handler(event, _Context(self.spec.name, self.timeout_seconds))
        except Exception:
            logger.exception("handler raised", extra={"api": self.spec.name, "route_key": route_key})
            return _FAILED
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
        logger.info(
            "websocket route served",
            extra={
                "api": self.spec.name,
                "route_key": route_key,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return result


_FAILED = object()
