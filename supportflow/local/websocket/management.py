"""The ``@connections`` management API (PostToConnection, GetConnection, DeleteConnection) over HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote

# API Gateway's limit on one posted message.
MAX_POST_BYTES = 128 * 1024


class _LiveConnection(Protocol):
    connected_at_ms: int
    last_active_ms: int
    source_ip: str
    user_agent: str


class Connections(Protocol):
    """What the management API needs of a gateway: its stage and its live connections."""

    @property
    def stage(self) -> str:
        """The stage the endpoint serves (``/{stage}/@connections/{id}``)."""
        ...

    def connection(self, connection_id: str) -> _LiveConnection | None:
        """A live connection, or None once it is gone."""
        ...

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send one frame; False when the connection is gone."""
        ...

    def close(self, connection_id: str) -> bool:
        """Close from the server side; False when the connection is gone."""
        ...


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


class _ManagementHandler(BaseHTTPRequestHandler):
    """One request of the management API; ``gateway`` is set on the subclass per API."""

    gateway: ClassVar[Connections]
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, each post would wait for the delayed ACK (~40 ms).
    disable_nagle_algorithm = True

    def _connection_id(self) -> str | None:
        stage, _, rest = self.path.partition("?")[0].lstrip("/").partition("/")
        prefix = "@connections/"
        if stage != self.gateway.stage or not rest.startswith(prefix):
            return None
        return unquote(rest.removeprefix(prefix)) or None

    def _answer(self, status: int, body: dict[str, Any] | None = None, error: str | None = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", str(time.time_ns()))
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _gone(self) -> None:
        self._answer(410, {"message": None}, "GoneException")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        connection_id = self._connection_id()
        if connection_id is None:
            self._answer(404, {"message": "Not Found"}, "NotFoundException")
        elif len(data) > MAX_POST_BYTES:
            self._answer(413, {"message": "Message too long"}, "PayloadTooLargeException")
        elif self.gateway.post(connection_id, data):
            self._answer(200)
        else:
            self._gone()

    def do_GET(self) -> None:
        connection_id = self._connection_id()
        connection = self.gateway.connection(connection_id) if connection_id else None
        if connection is None:
            self._gone()
            return
        self._answer(
            200,
            {
                "ConnectedAt": _iso(connection.connected_at_ms),
                "LastActiveAt": _iso(connection.last_active_ms or connection.connected_at_ms),
                "Identity": {"SourceIp": connection.source_ip, "UserAgent": connection.user_agent},
            },
        )

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        if connection_id and self.gateway.close(connection_id):
            self._answer(204)
        else:
            self._gone()

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs stay quiet; the gateway logs each route served."""


def management_handler(gateway: Connections) -> type[BaseHTTPRequestHandler]:
    """The request handler class of one gateway's management API."""
    return type("ManagementHandler", (_ManagementHandler,), {"gateway": gateway})
