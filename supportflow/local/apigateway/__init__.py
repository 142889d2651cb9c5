"""Every API Gateway REST API of the template served on 127.0.0.1, one process per API (as its Lambda would run).

The stack deploys the APIs into the emulator (supportflow.local.resources.apigateway); this reads them
back through the API Gateway API, writes each one's spec, and starts ``supportflow.local.apigateway.server``
with the function's environment. ``url`` of a served API is ``http://127.0.0.1:<port>/<stage>``.
"""

from __future__ import annotations

import dataclasses
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

from supportflow.local.apigateway.spec import RestApiSpec, Route, describe_rest_api, match_route
from supportflow.local.readiness import READY_TIMEOUT_SECONDS
from supportflow.local.resources import FunctionSpec, ResourceInfo

__all__ = [
    "RestApiServer",
    "RestApiSpec",
    "Route",
    "describe_rest_api",
    "localise_functions",
    "localise_urls",
    "match_route",
    "start_rest_api_servers",
    "stop_rest_api_servers",
]

logger = logging.getLogger("supportflow.local")

STOP_TIMEOUT_SECONDS = 5.0
# SAM's implicit deployment stage; served (as in AWS) but not the URL we show first.
_SAM_PLACEHOLDER_STAGE = "Stage"
_EXECUTE_API_URL = re.compile(r"https://(?P<api_id>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?")


class ApiServerError(RuntimeError):
    """A REST API server failed to start or died."""


@dataclass
class RestApiServer:
    """One local API process: what it serves and where."""

    logical_id: str
    spec: RestApiSpec
    command: list[str]
    environment: dict[str, str]
    ready_file: Path
    log_path: Path | None
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (stages are path prefixes below it)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The invoke URL of the API's main stage, ``http://127.0.0.1:<port>/<stage>``."""
        stages = [s for s in self.spec.stages if s != _SAM_PLACEHOLDER_STAGE] or list(self.spec.stages)
        return f"{self.base_url}/{stages[0]}" if stages else self.base_url

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Spawn the server (cwd = project root, so the handler imports as in the Lambda zip)."""
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
        """Block until the server has bound its port."""
        while not self.ready_file.exists() or not self.ready_file.read_text(encoding="utf-8").strip():
            if not self.alive:
                msg = f"API server {self.logical_id} exited before serving (see {self.log_path or 'stderr'})"
                raise ApiServerError(msg)
            if time.monotonic() > deadline:
                msg = f"API server {self.logical_id} not ready after {READY_TIMEOUT_SECONDS} s"
                raise ApiServerError(msg)
            time.sleep(0.05)
        self.port = int(self.ready_file.read_text(encoding="utf-8"))

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


def start_rest_api_servers(
    resources: Mapping[str, ResourceInfo],
    functions: Mapping[str, FunctionSpec],
    apigateway: Any,
    environment_for: Callable[[FunctionSpec], dict[str, str]],
    *,
    work_dir: Path,
    log_dir: Path | None = None,
) -> dict[str, RestApiServer]:
    """Start a server for every created ``AWS::ApiGateway::RestApi``; return them by logical id once all serve."""
    servers: dict[str, RestApiServer] = {}
    for info in resources.values():
        if info.type != "AWS::ApiGateway::RestApi" or info.status != "created" or info.physical_id is None:
            continue
        spec = describe_rest_api(apigateway, info.physical_id, dict(functions))
        function = functions[spec.function_logical_id]
        # Each authorizer runs with its own function's environment, as its Lambda would.
        for authorizer_id, authorizer in list(spec.authorizers.items()):
            env_path = work_dir / f"api-{info.logical_id}-authorizer-{authorizer_id}.env.json"
            env_path.write_text(
                json.dumps(environment_for(functions[authorizer.function_logical_id])), encoding="utf-8"
            )
            spec.authorizers[authorizer_id] = dataclasses.replace(authorizer, environment_file=str(env_path))
        spec_path = work_dir / f"api-{info.logical_id}.json"
        spec_path.write_text(json.dumps(spec.to_json()), encoding="utf-8")
        ready = work_dir / f"api-{info.logical_id}.port"
        command = [
            sys.executable,
            "-m",
            "supportflow.local.apigateway.server",
            "--spec",
            str(spec_path),
            "--timeout",
            str(function.timeout_seconds),
            "--memory",
            str(function.memory_mb),
            "--ready-file",
            str(ready),
            "--parent-pid",
            str(os.getpid()),
        ]
        servers[info.logical_id] = RestApiServer(
            logical_id=info.logical_id,
            spec=spec,
            command=command,
            environment=environment_for(function),
            ready_file=ready,
            log_path=(log_dir / f"api-{info.logical_id}.log") if log_dir else None,
        )
    try:
        for server in servers.values():
            server.start()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        for server in servers.values():
            server.wait_ready(deadline)
    except BaseException:
        stop_rest_api_servers(servers.values())
        raise
    for server in servers.values():
        logger.info("rest api served", extra={"api": server.logical_id, "url": server.url})
    return servers


def localise_urls(value: Any, servers: Mapping[str, RestApiServer]) -> Any:
    """``https://<api id>.execute-api.<region>.amazonaws.com`` of a served API, as its local base URL."""
    by_id = {server.spec.api_id: server.base_url for server in servers.values()}
    if not isinstance(value, str) or not by_id:
        return value
    return _EXECUTE_API_URL.sub(lambda m: by_id.get(m.group("api_id"), m.group(0)), value)


def localise_functions(
    functions: Mapping[str, FunctionSpec], servers: Mapping[str, RestApiServer]
) -> dict[str, FunctionSpec]:
    """The functions with every served API's AWS URL in their environment replaced by its local one."""
    return {
        logical_id: dataclasses.replace(
            function, environment={k: localise_urls(v, servers) for k, v in function.environment.items()}
        )
        for logical_id, function in functions.items()
    }


def stop_rest_api_servers(servers: Iterable[RestApiServer]) -> None:
    """Stop every server."""
    for server in servers:
        server.stop()
