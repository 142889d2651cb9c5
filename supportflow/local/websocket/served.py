"""The template's WebSocket APIs as the local stack serves them: read back from the emulator, one process each.

``url`` of a served API is ``ws://127.0.0.1:<port>/<stage>``; its function posts back through the
``@connections`` endpoint the process serves (``WEBSOCKET_MANAGEMENT_ENDPOINT``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportflow.local.readiness import READY_TIMEOUT_SECONDS
from supportflow.local.resources import FunctionSpec, ResourceInfo
from supportflow.local.websocket.gateway import WebSocketApiSpec, spec_to_json

logger = logging.getLogger("supportflow.local")

STOP_TIMEOUT_SECONDS = 5.0
_LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")
_WSS_URL = re.compile(r"wss://(?P<api_id>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?")


class WebSocketServerError(RuntimeError):
    """A WebSocket API cannot be served locally, or its process failed."""


@dataclass(frozen=True)
class WebSocketApiDescription:
    """A deployed WebSocket API: its spec, and the functions behind its routes and $connect authorizer."""

    spec: WebSocketApiSpec
    function: FunctionSpec
    authorizer: FunctionSpec | None


def _function_of(uri: str, by_arn: Mapping[str, FunctionSpec], what: str) -> FunctionSpec:
    match = _LAMBDA_URI.match(uri)
    if match is None or match.group("arn") not in by_arn:
        msg = f"{what}: {uri!r} is not a function of this stack"
        raise WebSocketServerError(msg)
    return by_arn[match.group("arn")]


def describe_websocket_api(
    apigatewayv2: Any, api_id: str, functions: Mapping[str, FunctionSpec]
) -> WebSocketApiDescription:
    """Read the API back from the emulator: stage, routes, the one function and the $connect authorizer."""
    by_arn = {function.arn: function for function in functions.values()}
    api = apigatewayv2.get_api(ApiId=api_id)
    routes = apigatewayv2.get_routes(ApiId=api_id)["Items"]
    integrations = {i["IntegrationId"]: i for i in apigatewayv2.get_integrations(ApiId=api_id)["Items"]}
    targets = {
        function.logical_id: function
        for function in (
            _function_of(
                integrations[r["Target"].removeprefix("integrations/")]["IntegrationUri"], by_arn, r["RouteKey"]
            )
            for r in routes
            if r.get("Target")
        )
    }
    if len(targets) != 1:
        # One process runs one function with its environment, as one Lambda would.
        msg = f"API {api['Name']}: served locally only when its routes go to exactly one function"
        raise WebSocketServerError(msg)
    (function,) = targets.values()
    connect = next((r for r in routes if r["RouteKey"] == "$connect"), None)
    authorizer: FunctionSpec | None = None
    identity: tuple[str, ...] = ()
    if connect is not None and connect.get("AuthorizerId"):
        described = apigatewayv2.get_authorizer(ApiId=api_id, AuthorizerId=connect["AuthorizerId"])
        authorizer = _function_of(described["AuthorizerUri"], by_arn, "$connect authorizer")
        identity = tuple(described.get("IdentitySource") or ())
    stages = [s["StageName"] for s in apigatewayv2.get_stages(ApiId=api_id)["Items"]]
    if not stages:
        msg = f"API {api['Name']}: no stage to serve"
        raise WebSocketServerError(msg)
    _, _, region, account_id, *_ = function.arn.split(":")
    spec = WebSocketApiSpec(
        name=str(api["Name"]),
        api_id=api_id,
        stage=stages[0],
        routes=frozenset(str(r["RouteKey"]) for r in routes),
        route_selection_expression=str(api.get("RouteSelectionExpression") or "$request.body.action"),
        identity_sources=identity,
        region=region,
        account_id=account_id,
    )
    return WebSocketApiDescription(spec=spec, function=function, authorizer=authorizer)


@dataclass
class WebSocketApiServer:
    """One local WebSocket API process: what it serves and where."""

    logical_id: str
    description: WebSocketApiDescription
    command: list[str]
    environment: dict[str, str]
    ready_file: Path
    log_path: Path | None
    port: int | None = None
    management_port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:<port>/<stage>``."""
        return f"ws://127.0.0.1:{self.port}/{self.description.spec.stage}"

    @property
    def management_endpoint(self) -> str:
        """The ``@connections`` endpoint, ``http://127.0.0.1:<port>/<stage>``."""
        return f"http://127.0.0.1:{self.management_port}/{self.description.spec.stage}"

    def start(self) -> None:
        """Spawn the process (cwd = project root, so handlers import as in the Lambda zip)."""
        self.ready_file.unlink(missing_ok=True)
        output: Any = None
        if self.log_path is not None:
            self._log = self.log_path.open("ab")
            output = self._log
        cwd = Path(__file__).resolve().parents[3]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.command, cwd=cwd, env=self.environment, stdout=output, stderr=output
        )

    def wait_ready(self, deadline: float) -> None:
        """Block until both ports are bound."""
        while not self.ready_file.exists() or not self.ready_file.read_text(encoding="utf-8").strip():
            if self.process is None or self.process.poll() is not None:
                msg = f"WebSocket API {self.logical_id} exited before serving (see {self.log_path or 'stderr'})"
                raise WebSocketServerError(msg)
            if time.monotonic() > deadline:
                msg = f"WebSocket API {self.logical_id} not ready after {READY_TIMEOUT_SECONDS} s"
                raise WebSocketServerError(msg)
            time.sleep(0.05)
        port, management_port = self.ready_file.read_text(encoding="utf-8").split()
        self.port, self.management_port = int(port), int(management_port)

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def start_websocket_servers(
    resources: Mapping[str, ResourceInfo],
    functions: Mapping[str, FunctionSpec],
    apigatewayv2: Any,
    environment_for: Callable[[FunctionSpec], dict[str, str]],
    *,
    work_dir: Path,
    log_dir: Path | None = None,
) -> dict[str, WebSocketApiServer]:
    """Serve every created WEBSOCKET ``AWS::ApiGatewayV2::Api``; return them by logical id once all serve."""
    servers: dict[str, WebSocketApiServer] = {}
    for info in resources.values():
        if info.type != "AWS::ApiGatewayV2::Api" or info.status != "created" or info.physical_id is None:
            continue
        if apigatewayv2.get_api(ApiId=info.physical_id).get("ProtocolType") != "WEBSOCKET":
            continue
        described = describe_websocket_api(apigatewayv2, info.physical_id, functions)
        spec_path = work_dir / f"websocket-{info.logical_id}.json"
        authorizer = described.authorizer.handler if described.authorizer else None
        document = spec_to_json(
            described.spec, described.function.handler, authorizer, described.function.timeout_seconds
        )
        spec_path.write_text(json.dumps(document), encoding="utf-8")
        # One process runs the function and the authorizer: the authorizer's variables first, the function's win.
        environment = {
            **(environment_for(described.authorizer) if described.authorizer else {}),
            **environment_for(described.function),
        }
        ready = work_dir / f"websocket-{info.logical_id}.ports"
        command = [
            sys.executable,
            "-m",
            "supportflow.local.websocket.server",
            "--spec",
            str(spec_path),
            "--ready-file",
            str(ready),
            "--parent-pid",
            str(os.getpid()),
        ]
        servers[info.logical_id] = WebSocketApiServer(
            logical_id=info.logical_id,
            description=described,
            command=command,
            environment=environment,
            ready_file=ready,
            log_path=(log_dir / f"websocket-{info.logical_id}.log") if log_dir else None,
        )
    try:
        for server in servers.values():
            server.start()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        for server in servers.values():
            server.wait_ready(deadline)
    except BaseException:
        stop_websocket_servers(servers.values())
        raise
    for server in servers.values():
        logger.info("websocket api served", extra={"api": server.logical_id, "url": server.url})
    return servers


def localise_websocket_urls(value: Any, servers: Mapping[str, WebSocketApiServer]) -> Any:
    """``wss://<api id>.execute-api.<region>.amazonaws.com`` of a served API, as ``ws://127.0.0.1:<port>``."""
    by_id = {server.description.spec.api_id: f"ws://127.0.0.1:{server.port}" for server in servers.values()}
    if not isinstance(value, str) or not by_id:
        return value
    return _WSS_URL.sub(lambda m: by_id.get(m.group("api_id"), m.group(0)), value)


def stop_websocket_servers(servers: Iterable[WebSocketApiServer]) -> None:
    """Stop every server."""
    for server in servers:
        server.stop()
