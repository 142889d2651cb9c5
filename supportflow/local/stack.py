"""The embedded stack: template.yaml deployed into an emulator, offline Bedrock, bridges and supervised workers.

The deployer (``deployer.py``) creates the resources; the supervisor (``supervisor.py``) runs the
consumer processes; this module wires a target, the two of them and the offline Bedrock together.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from supportflow.local.apigateway import (
    RestApiServer,
    localise_functions,
    localise_urls,
    start_rest_api_servers,
    stop_rest_api_servers,
)
from supportflow.local.bedrock_boot import BedrockBoot
from supportflow.local.bridges import BridgeForwarder
from supportflow.local.clients import Clients
from supportflow.local.deployer import deploy
from supportflow.local.emulator import MotoEmulator, configure_moto, is_moto_server
from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources import (
    ALL_BRIDGE_KINDS,
    Bridge,
    EventSourceSpec,
    FunctionSpec,
    ResourceInfo,
)
from supportflow.local.supervisor import RestartPolicy, Supervisor, WorkerError, WorkerProcess
from supportflow.local.targets import Target, check_localstack, resolve_target
from supportflow.local.template import Template, load_template
from supportflow.local.websocket.served import (
    WebSocketApiServer,
    localise_websocket_urls,
    start_websocket_servers,
    stop_websocket_servers,
)
from supportflow.local.worker_factory import PROJECT_ROOT, WorkerFactory

logger = logging.getLogger("supportflow.local")

DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"
DEFAULT_RETRY_DELAY_SECONDS = 1
DEFAULT_RETRY_DELAY_SECONDS = 1
__all__ = ["DEFAULT_TEMPLATE", "PROJECT_ROOT", "EmulatedStack", "WorkerError", "WorkerProcess"]


class EmulatedStack:
    """template.yaml deployed into an emulator (embedded moto, a LocalStack, or any endpoint), with workers.

    Use ``with EmulatedStack.start() as stack:``; everything started is stopped on exit.
    """

    def __init__(
        self,
        template: Template,
        clients: Clients,
        *,
        stage: str,
        stack_name: str,
        target: Target,
        owns_emulator: bool,
        work_dir: Path,
        log_dir: Path | None,
        retry_delay_seconds: int | None,
        short_visibility: bool,
        restart_policy: RestartPolicy | None,
    ) -> None:
        self.template = template
        self.clients = clients
        self.stage = stage
        self.stack_name = stack_name
        self.target = target.name
        self.endpoint_url = clients.endpoint_url
        self.region = clients.region
        self.emulator = "moto" if owns_emulator else "localstack" if target.name == "localstack" else "external"
        # The OfflineBedrock server (request counts, faults) when it is available.
        self.bedrock: Any = None
        self.bedrock_url: str | None = None
        self.account_id = ""
        self.resources: dict[str, ResourceInfo] = {}
        self.outputs: dict[str, Any] = {}
        self.bridges: list[Bridge] = []
        self.functions: dict[str, FunctionSpec] = {}
        self.event_sources: list[EventSourceSpec] = []
        self.skipped_workers: dict[str, str] = {}
        self.supervisor = Supervisor(restart_policy)
        # Every API Gateway REST API of the template, served on 127.0.0.1 (``apis[id].url``).
        self.apis: dict[str, RestApiServer] = {}
        # Every WebSocket API (AWS::ApiGatewayV2::Api, WEBSOCKET), served on 127.0.0.1 (``websockets[id].url``).
        self.websockets: dict[str, WebSocketApiServer] = {}
        self.boot_seconds = 0.0
        self._factory = WorkerFactory(
            endpoint_url=self.endpoint_url,
            region=self.region,
            work_dir=work_dir,
            log_dir=log_dir,
            retry_delay_seconds=retry_delay_seconds,
            short_visibility=short_visibility,
        )
        self._owns_emulator = owns_emulator
        self._work_dir = work_dir
        self._forwarders: list[BridgeForwarder] = []
        self._stopped = False

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def start(
        cls,
        template: Path = DEFAULT_TEMPLATE,
        stage: str = "local",
        parameters: Mapping[str, str] | None = None,
        *,
        workers: bool | Iterable[str] = True,
        target: str | Target | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        bedrock: bool = True,
        retry_delay_seconds: int | None = DEFAULT_RETRY_DELAY_SECONDS,
        short_visibility: bool = True,
        restart_policy: RestartPolicy | None = None,
        log_dir: Path | None = None,
    ) -> EmulatedStack:
        """Boot: emulator, offline Bedrock, every template resource, bridges, then the supervised workers.

        ``target`` is ``embedded`` (moto in this process, the default), ``localstack`` (a running
        LocalStack, found as localstack-client finds it) or ``endpoint`` (``endpoint_url`` /
        ``$AWS_ENDPOINT_URL``); unset, ``$SUPPORTFLOW_TARGET`` decides, then whether an endpoint is given.
        ``workers`` is True (all), False (none) or the function logical ids to run.
        Local deviations (None / False keep AWS behaviour): ``retry_delay_seconds`` makes a failed message
        visible again after it; ``short_visibility`` hides a received batch for the function's timeout
        instead of the queue's VisibilityTimeout.
        """
        started = time.monotonic()
        resolved = target if isinstance(target, Target) else resolve_target(target, endpoint_url)
        if resolved.name == "localstack" and resolved.endpoint_url:
            check_localstack(resolved.endpoint_url)
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        os.environ.setdefault("AWS_DEFAULT_REGION", region)
        # The offline Bedrock warms its model meanwhile; only the workers need it.
        bedrock_boot = BedrockBoot() if bedrock else None
        try:
            template_doc = load_template(template, dict(parameters or {}), {"Stage": stage})
            emulator = None if resolved.endpoint_url else MotoEmulator.acquire()
        except BaseException:
            if bedrock_boot is not None:
                bedrock_boot.discard()
            raise
        endpoint = resolved.endpoint_url or (emulator.endpoint_url if emulator else "")
        stack = cls(
            template_doc,
            Clients(endpoint, region),
            stage=stage,
            stack_name=f"supportflow-{stage}",
            target=resolved,
            owns_emulator=emulator is not None,
            work_dir=Path(tempfile.mkdtemp(prefix="supportflow-local-")),
            log_dir=log_dir,
            retry_delay_seconds=retry_delay_seconds,
            short_visibility=short_visibility,
            restart_policy=restart_policy,
        )
        try:
            stack._deploy(resolved, endpoint, embedded=emulator is not None)
            stack._start_forwarders()
            if bedrock_boot is not None:
                stack.bedrock, stack.bedrock_url = bedrock_boot.result()
                stack._factory.bedrock_url = stack.bedrock_url
                if stack.bedrock is not None:
                    # Its asynchronous jobs (Data Automation, batch inference) use this emulator's S3 and bus.
                    stack.bedrock.connect_emulator(endpoint, region)
            stack.boot_seconds = time.monotonic() - started
            stack.apis = start_rest_api_servers(
                stack.resources,
                stack.functions,
                stack.clients.client("apigateway"),
                stack.worker_environment,
                work_dir=stack._work_dir,
                log_dir=log_dir,
            )
            # Workers and outputs see each served API at its 127.0.0.1 URL instead of execute-api's.
            stack.functions = localise_functions(stack.functions, stack.apis)
            stack.outputs = {name: localise_urls(value, stack.apis) for name, value in stack.outputs.items()}
            stack.websockets = start_websocket_servers(
                stack.resources,
                stack.functions,
                stack.clients.client("apigatewayv2"),
                stack.worker_environment,
                work_dir=stack._work_dir,
                log_dir=log_dir,
            )
            stack.outputs = {k: localise_websocket_urls(v, stack.websockets) for k, v in stack.outputs.items()}
            stack._start_workers(workers)
        except BaseException:
            if bedrock_boot is not None and stack.bedrock is None:
                bedrock_boot.discard()
            stack.stop()
            raise
        logger.info(
            "emulated stack up",
            extra={
                "target": resolved.name,
                "endpoint_url": endpoint,
                "bedrock_url": stack.bedrock_url,
                "stack": stack.stack_name,
                "boot_seconds": round(stack.boot_seconds, 2),
                "workers": sorted(stack.workers),
            },
        )
        return stack

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop workers, bridges, offline Bedrock and (if this stack started it) the emulator."""
        if self._stopped:
            return
        self._stopped = True
        stop_rest_api_servers(self.apis.values())
        stop_websocket_servers(self.websockets.values())
        self.supervisor.shutdown()
        for forwarder in self._forwarders:
            forwarder.stop()
        for forwarder in self._forwarders:
            forwarder.join(timeout=5)
        if self.bedrock is not None:
            with contextlib.suppress(Exception):
                self.bedrock.stop()
        if self._owns_emulator:
            MotoEmulator.release()
        shutil.rmtree(self._work_dir, ignore_errors=True)
        logger.info("emulated stack stopped", extra={"stack": self.stack_name})

    # ------------------------------------------------------------ deployment

    def _deploy(self, target: Target, endpoint: str, *, embedded: bool) -> None:
        bridge_kinds, unknown_targets_fail = target.bridge_kinds, target.unknown_targets_fail
        # An external moto server (not LocalStack) has moto's gaps: bridge its targets, run its state machines.
        if embedded or (target.name == "endpoint" and is_moto_server(endpoint)):
            bridge_kinds, unknown_targets_fail = ALL_BRIDGE_KINDS, True
            if not embedded:
                configure_moto(endpoint)
        deployed = deploy(
            self.template,
            self.clients,
            self.stack_name,
            bridge_kinds=bridge_kinds,
            unknown_targets_fail=unknown_targets_fail,
        )
        self.account_id = deployed.account_id
        self.resources = deployed.resources
        self.outputs = deployed.outputs
        self.bridges = deployed.bridges
        self.functions = deployed.functions
        self.event_sources = deployed.event_sources

    def _start_forwarders(self) -> None:
        for bridge in self.bridges:
            if bridge.kind == "lambda":
                continue  # served by a consumer process in eventbridge mode (see _start_workers)
            forwarder = BridgeForwarder(bridge, self.clients)
            forwarder.start()
            self._forwarders.append(forwarder)

    # ------------------------------------------------------------ workers

    @property
    def workers(self) -> dict[str, WorkerProcess]:
        """The supervised consumer processes by key (event source logical id, bridge or extra key)."""
        return self.supervisor.workers

    def worker_environment(self, function: FunctionSpec | None = None) -> dict[str, str]:
        """The environment a worker gets: the function's resolved variables plus endpoints and credentials."""
        return self._factory.environment(function)

    def _start_workers(self, selection: bool | Iterable[str]) -> None:
        wanted = set(self.functions) if selection is True else set() if selection is False else set(selection)
        unknown = wanted - set(self.functions)
        if unknown:
            msg = f"no such function(s) in the template: {sorted(unknown)}"
            raise TemplateError(msg)
        pending: list[WorkerProcess] = []
        for source in self.event_sources:
            if source.function_logical_id not in wanted:
                continue
            function = self.functions[source.function_logical_id]
            if not source.enabled:
                self.skipped_workers[source.logical_id] = "event source mapping disabled in the template"
                continue
            module = function.handler.rpartition(".")[0]
            if not _module_exists(module):
                reason = f"handler module {module} not found"
                self.skipped_workers[source.logical_id] = reason
                logger.warning("worker not started", extra={"event_source": source.logical_id, "reason": reason})
                continue
            pending.append(
                self._factory.worker(
                    source.logical_id,
                    function,
                    queue_url=source.queue_url,
                    event_source_arn=source.queue_arn,
                    batch_size=source.batch_size,
                    batching_window_seconds=source.batching_window_seconds,
                    report_batch_item_failures=source.report_batch_item_failures,
                    maximum_concurrency=source.maximum_concurrency,
                )
            )
        for bridge in self.bridges:
            target_function = next((f for f in self.functions.values() if f.arn == bridge.target_arn), None)
            if bridge.kind == "lambda" and target_function is not None and target_function.logical_id in wanted:
                pending.append(
                    self._factory.worker(
                        f"{bridge.rule_logical_id}-{bridge.target_id}",
                        target_function,
                        queue_url=bridge.queue_url,
                        event_source_arn=bridge.queue_arn,
                        batch_size=1,
                        event_shape="eventbridge",
                    )
                )
        self.supervisor.launch(pending)

    def start_consumer(
        self,
        key: str,
        queue_url: str,
        handler: str,
        *,
        function_name: str | None = None,
        environment: Mapping[str, str] | None = None,
        batch_size: int = 10,
        batching_window_seconds: float = 0,
        report_batch_item_failures: bool = True,
        timeout_seconds: int = 30,
    ) -> WorkerProcess:
        """Run an extra supervised consumer (a test or benchmark handler) on any queue; stopped with the stack."""
        function = FunctionSpec(
            logical_id=key,
            name=function_name or key,
            arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name or key}",
            handler=handler,
            runtime=f"python{sys.version_info.major}.{sys.version_info.minor}",
            memory_mb=128,
            timeout_seconds=timeout_seconds,
            environment=dict(environment or {}),
        )
        worker = self._factory.worker(
            key,
            function,
            queue_url=queue_url,
            batch_size=batch_size,
            batching_window_seconds=batching_window_seconds,
            report_batch_item_failures=report_batch_item_failures,
        )
        self.supervisor.launch([worker])
        return worker

    def stop_consumer(self, key: str) -> None:
        """Stop and forget a consumer started with :meth:`start_consumer`."""
        self.supervisor.stop([key], forget=True)

    def check_workers(self) -> None:
        """Raise if a worker died and kept dying (the supervisor restarts one that dies, then gives up)."""
        self.supervisor.check()

    @contextlib.contextmanager
    def paused(self, *names: str) -> Iterator[None]:
        """Stop the workers of these functions or queues (logical ids) for the block, then restart them.

        Lets a test read a queue a worker would otherwise drain.
        """
        queue_urls = {
            self.physical_id(n) for n in names if n in self.resources and self.resources[n].type == "AWS::SQS::Queue"
        }
        chosen = [
            key
            for key, worker in self.workers.items()
            if worker.function_logical_id in names or key in names or worker.queue_url in queue_urls
        ]
        with self.supervisor.paused(chosen):
            yield

    # ------------------------------------------------------------ lookups

    def physical_id(self, logical_id: str) -> str:
        """What ``Ref logical_id`` resolved to (queue URL, topic ARN, bus name...)."""
        info = self.resources.get(logical_id)
        if info is None or info.physical_id is None:
            msg = f"{logical_id}: not a created resource of this stack"
            raise KeyError(msg)
        return info.physical_id

    def attribute(self, logical_id: str, attribute: str) -> Any:
        """What ``Fn::GetAtt [logical_id, attribute]`` resolved to."""
        return self.resources[logical_id].attributes[attribute]

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` bound to the stack's endpoint (typed ones: ``stack.clients``)."""
        return self.clients.client(service)


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
