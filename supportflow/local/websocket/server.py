"""One local WebSocket API as a process, with its function's (and authorizer's) environment, as Lambda has.

Run by the local stack::

    python -m supportflow.local.websocket.server --spec SPEC.json --ready-file F --parent-pid PID

The ready file receives ``<socket port> <@connections port>``. The function's boto3
``apigatewaymanagementapi`` client is pointed at the local ``@connections`` endpoint through
``WEBSOCKET_MANAGEMENT_ENDPOINT`` (on AWS it is ``https://{domain}/{stage}``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from supportflow.local.websocket.gateway import Handler, WebSocketApiSpec, WebSocketGateway
from workers.shared.runtime.logs import configure_json_logging

MANAGEMENT_ENDPOINT_ENV = "WEBSOCKET_MANAGEMENT_ENDPOINT"
_PARENT_CHECK_SECONDS = 1.0


def _load(dotted: str) -> Handler:
    module_name, _, attribute = dotted.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    if not callable(handler):
        msg = f"handler {dotted!r} is not callable"
        raise TypeError(msg)
    return handler  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """Serve one WebSocket API until SIGTERM or until the parent process is gone."""
    parser = argparse.ArgumentParser(prog="python -m supportflow.local.websocket.server")
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--management-port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, default=None)
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)
    raw = json.loads(args.spec.read_text(encoding="utf-8"))
    spec = WebSocketApiSpec(
        name=raw["name"],
        api_id=raw["api_id"],
        stage=raw["stage"],
        routes=frozenset(raw["routes"]),
        route_selection_expression=raw["route_selection_expression"],
        identity_sources=tuple(raw["identity_sources"]),
        region=raw["region"],
        account_id=raw["account_id"],
    )
    configure_json_logging(service=f"websocket:{spec.name}")
    authorizer = _load(raw["authorizer"]) if raw.get("authorizer") else None
    gateway = WebSocketGateway(
        spec, _load(raw["handler"]), authorizer=authorizer, timeout_seconds=int(raw["timeout_seconds"])
    )
    gateway.start(args.port, args.management_port)
    # Before the first event: the function reads it when it builds its client.
    os.environ[MANAGEMENT_ENDPOINT_ENV] = gateway.management_endpoint
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready_file is not None:
        management_port = gateway.management_endpoint.rsplit(":", 1)[1].split("/", 1)[0]
        args.ready_file.write_text(f"{gateway.domain_name.rsplit(':', 1)[1]} {management_port}", encoding="utf-8")
    while not stopped.wait(_PARENT_CHECK_SECONDS):
        if args.parent_pid is not None and os.getppid() != args.parent_pid:
            break
    gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
