"""The embedded local stack: template.yaml deployed into an emulator, with every worker polling its queue."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from botocore.exceptions import BotoCoreError, ClientError

from supportflow.local.bridges import BridgeForwarder
from supportflow.local.clients import DUMMY_CREDENTIALS, Clients
from supportflow.local.emulator import MotoEmulator, configure_moto, is_moto_server
from supportflow.local.intrinsics import Resolver, Scope, TemplateError, creation_order, evaluate_conditions
from supportflow.local.resources import (
    CREATORS,
    NOT_EMULATED,
    Bridge,
    Deployment,
    EventSourceSpec,
    FunctionSpec,
    ResourceInfo,
)
from supportflow.local.template import Template, load_template

logger = logging.getLogger("supportflow.local")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"
DEFAULT_RETRY_DELAY_SECONDS = 1
WORKER_READY_TIMEOUT_SECONDS = 30.0
WORKER_STOP_TIMEOUT_SECONDS = 10.0
# Locally polls are short: a worker stops (SIGTERM waits for the current poll) within this.
LOCAL_POLL_WAIT_SECONDS = 2
# Environment a worker inherits from ours; everything else comes from the template, as in Lambda.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "SYSTEMROOT")
_BEDROCK_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK",
    "AWS_ENDPOINT_URL_BEDROCK_DATA_AUTOMATION_RUNTIME",
)


class WorkerError(RuntimeError):
    """A worker process failed to start or died."""


@dataclass
class WorkerProcess:
    """One consumer subprocess: a function's handler polling one queue."""

    key: str
    function_logical_id: str
    queue_url: str
    command: list[str]
    environment: dict[str, str]
    log_path: Path | None
    ready_file: Path
    process: subprocess.Popen[bytes] | None = None
    _log_handle: Any = field(default=None, repr=False)

    def start(self) -> None:
        """Spawn the consumer (cwd = project root, so handler modules import as in the Lambda zip)."""
        self.ready_file.unlink(missing_ok=True)
        output: Any = None
        if self.log_path is not None:
            self._log_handle = self.log_path.open("ab")
            output = self._log_handle
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.command, cwd=PROJECT_ROOT, env=self.environment, stdout=output, stderr=output
        )

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, deadline: float) -> None:
        """Block until the consumer has imported its handler and starts polling."""
        while not self.ready_file.exists():
            if not self.alive:
                code = self.process.returncode if self.process else None
                msg = f"worker {self.key} exited with code {code} before polling (see {self.log_path or 'stderr'})"
                raise WorkerError(msg)
            if time.monotonic() > deadline:
                msg = f"worker {self.key} not ready after {WORKER_READY_TIMEOUT_SECONDS} s"
                raise WorkerError(msg)
            time.sleep(0.05)

    def terminate(self) -> None:
        """Send SIGTERM: the consumer finishes its current poll and batch, then exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL if it hangs."""
        self.terminate()
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.wait(WORKER_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("worker did not stop in time; killing", extra={"worker": self.key})
                self.process.kill()
                self.process.wait()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None


class LocalStack:
    """template.yaml deployed into moto (or ``AWS_ENDPOINT_URL``), plus offline Bedrock, bridges and workers.

    Use ``with LocalStack.start() as stack:``; everything started is stopped on exit.
    """

    def __init__(
        self,
        template: Template,
        clients: Clients,
        *,
        stage: str,
        stack_name: str,
        owns_emulator: bool,
        work_dir: Path,
        log_dir: Path | None,
        retry_delay_seconds: int | None,
    ) -> None:
        self.template = template
        self.clients = clients
        self.stage = stage
        self.stack_name = stack_name
        self.endpoint_url = clients.endpoint_url
        self.region = clients.region
        self.emulator = "moto" if owns_emulator else "external"
        # The OfflineBedrock server (request counts, faults) when it is available.
        self.bedrock: Any = None
        self.bedrock_url: str | None = None
        self.account_id = ""
        self.resources: dict[str, ResourceInfo] = {}
        self.outputs: dict[str, Any] = {}
        self.bridges: list[Bridge] = []
        self.functions: dict[str, FunctionSpec] = {}
        self.event_sources: list[EventSourceSpec] = []
        self.workers: dict[str, WorkerProcess] = {}
        self.skipped_workers: dict[str, str] = {}
        self.boot_seconds = 0.0
        self.retry_delay_seconds = retry_delay_seconds
        self._owns_emulator = owns_emulator
        self._work_dir = work_dir
        self._log_dir = log_dir
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
        endpoint_url: str | None = None,
        region: str | None = None,
        bedrock: bool = True,
        retry_delay_seconds: int | None = DEFAULT_RETRY_DELAY_SECONDS,
        log_dir: Path | None = None,
    ) -> LocalStack:
        """Boot: emulator, offline Bedrock, every template resource, bridges, then the workers.

        ``endpoint_url`` (default ``$AWS_ENDPOINT_URL``) deploys into an external emulator instead of
        booting moto. ``workers`` is True (all), False (none) or the function logical ids to run.
        ``retry_delay_seconds`` is local-only: failed messages become visible again after it instead
        of after the queue's VisibilityTimeout (None keeps AWS behaviour).
        """
        started = time.monotonic()
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        os.environ.setdefault("AWS_DEFAULT_REGION", region)
        # The offline Bedrock warms its model meanwhile; only the workers need it.
        bedrock_boot = _BedrockBoot() if bedrock else None
        overrides = dict(parameters or {})
        try:
            template_doc = load_template(template, overrides, {"Stage": stage})
        except BaseException:
            if bedrock_boot is not None:
                bedrock_boot.discard()
            raise
        external = endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        try:
            emulator = None if external else MotoEmulator.acquire()
        except BaseException:
            if bedrock_boot is not None:
                bedrock_boot.discard()
            raise
        endpoint = external or (emulator.endpoint_url if emulator else "")
        stack = cls(
            template_doc,
            Clients(endpoint, region),
            stage=stage,
            stack_name=f"supportflow-{stage}",
            owns_emulator=emulator is not None,
            work_dir=Path(tempfile.mkdtemp(prefix="supportflow-local-")),
            log_dir=log_dir,
            retry_delay_seconds=retry_delay_seconds,
        )
        # An external moto server (not LocalStack) has moto's gaps: bridge its targets, run its state machines.
        external_moto = bool(external) and is_moto_server(endpoint)
        if external_moto:
            configure_moto(endpoint)
        try:
            stack._deploy(bridge_unsupported_targets=emulator is not None or external_moto)
            stack._start_forwarders()
            if bedrock_boot is not None:
                stack.bedrock, stack.bedrock_url = bedrock_boot.result()
            stack.boot_seconds = time.monotonic() - started
            stack._start_workers(workers)
        except BaseException:
            if bedrock_boot is not None and stack.bedrock is None:
                bedrock_boot.discard()
            stack.stop()
            raise
        logger.info(
            "local stack up",
            extra={
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
        _stop_all(self.workers.values())
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
        logger.info("local stack stopped", extra={"stack": self.stack_name})

    # ------------------------------------------------------------ deployment

    def _deploy(self, *, bridge_unsupported_targets: bool) -> None:
        self.account_id = self._account_id()
        scope = Scope(
            parameters=dict(self.template.parameters),
            pseudo={
                "AWS::Region": self.region,
                "AWS::AccountId": self.account_id,
                "AWS::StackName": self.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NotificationARNs": "",
            },
            mappings=self.template.mappings,
        )
        evaluate_conditions(self.template.cloudformation, scope)
        resolver = Resolver(scope)
        deployment = Deployment(
            clients=self.clients,
            stack_name=self.stack_name,
            region=self.region,
            account_id=self.account_id,
            bridge_unsupported_targets=bridge_unsupported_targets,
        )
        for logical_id in creation_order(self.template.resources):
            self.resources[logical_id] = self._create(logical_id, resolver, deployment)
        self.bridges = deployment.bridges
        self.functions = deployment.functions
        self.event_sources = deployment.event_sources
        for name, output in self.template.outputs.items():
            condition = output.get("Condition")
            if condition is None or scope.conditions.get(condition):
                self.outputs[name] = resolver.resolve(output["Value"])

    def _create(self, logical_id: str, resolver: Resolver, deployment: Deployment) -> ResourceInfo:
        body = self.template.resources[logical_id]
        resource_type = str(body["Type"])
        scope = resolver.scope
        condition = body.get("Condition")
        if condition is not None and not scope.conditions.get(condition, False):
            return ResourceInfo(logical_id, resource_type, "condition-false", note=f"condition {condition} is false")
        if resource_type in NOT_EMULATED:
            placeholder = deployment.physical_name(logical_id)
            scope.refs[logical_id] = placeholder
            scope.attrs[logical_id] = {}
            logger.info(
                "resource not emulated",
                extra={"logical_id": logical_id, "type": resource_type, "reason": NOT_EMULATED[resource_type]},
            )
            return ResourceInfo(
                logical_id, resource_type, "not-emulated", placeholder, note=NOT_EMULATED[resource_type]
            )
        creator = CREATORS.get(resource_type)
        if creator is None:
            msg = (
                f"{logical_id}: no local creator for {resource_type}; add one to its service's module in"
                " supportflow/local/resources/ or list the type in NOT_EMULATED with the reason"
            )
            raise TemplateError(msg)
        properties = resolver.resolve(body.get("Properties") or {})
        try:
            created = creator(deployment, logical_id, properties)
        except (ClientError, BotoCoreError) as error:
            msg = f"creating {logical_id} ({resource_type}) failed: {error}"
            raise TemplateError(msg) from error
        scope.refs[logical_id] = created.ref
        scope.attrs[logical_id] = created.attributes
        return ResourceInfo(logical_id, resource_type, created.status, created.ref, created.attributes, created.note)

    def _account_id(self) -> str:
        sts = self.clients.client("sts")
        return str(sts.get_caller_identity()["Account"])

    def _start_forwarders(self) -> None:
        for bridge in self.bridges:
            if bridge.kind == "lambda":
                continue  # served by a consumer process in eventbridge mode (see _start_workers)
            forwarder = BridgeForwarder(bridge, self.clients)
            forwarder.start()
            self._forwarders.append(forwarder)

    # ------------------------------------------------------------ workers

    def worker_environment(self, function: FunctionSpec | None = None) -> dict[str, str]:
        """The environment a worker gets: the function's resolved variables plus endpoints and credentials."""
        environment = {name: os.environ[name] for name in _INHERITED_ENV if name in os.environ}
        if function is not None:
            environment.update(function.environment)
            environment.update(
                {
                    "AWS_LAMBDA_FUNCTION_NAME": function.name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                    "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
                    "_HANDLER": function.handler,
                }
            )
        environment.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_XRAY_SDK_ENABLED": "false",
                "PYTHONPATH": str(PROJECT_ROOT),
                "PYTHONUNBUFFERED": "1",
            }
        )
        for variable in _BEDROCK_ENDPOINT_VARIABLES:
            value = os.environ.get(variable) or self.bedrock_url
            if value:
                environment[variable] = value
        return environment

    def _start_workers(self, selection: bool | Iterable[str]) -> None:
        wanted = set(self.functions) if selection is True else set() if selection is False else set(selection)
        unknown = wanted - set(self.functions)
        if unknown:
            msg = f"no such function(s) in the template: {sorted(unknown)}"
            raise TemplateError(msg)
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
            self.workers[source.logical_id] = self._worker_for(source, function)
        for bridge in self.bridges:
            target_function = next((f for f in self.functions.values() if f.arn == bridge.target_arn), None)
            if bridge.kind == "lambda" and target_function is not None and target_function.logical_id in wanted:
                key = f"{bridge.rule_logical_id}-{bridge.target_id}"
                self.workers[key] = self._consumer(
                    key,
                    target_function.logical_id,
                    bridge.queue_url,
                    target_function,
                    batch_size=1,
                    extra=["--event-shape", "eventbridge", "--event-source-arn", bridge.queue_arn],
                )
        self._launch(self.workers.values())

    def _worker_for(self, source: EventSourceSpec, function: FunctionSpec) -> WorkerProcess:
        extra = ["--event-source-arn", source.queue_arn, "--batching-window", str(source.batching_window_seconds)]
        if source.report_batch_item_failures:
            extra.append("--report-batch-item-failures")
        return self._consumer(
            source.logical_id,
            function.logical_id,
            source.queue_url,
            function,
            batch_size=source.batch_size,
            extra=extra,
        )

    def _consumer(
        self,
        key: str,
        function_logical_id: str,
        queue_url: str,
        function: FunctionSpec,
        *,
        batch_size: int,
        extra: list[str],
    ) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "workers.shared.runtime.consumer",
            "--queue-url",
            queue_url,
            "--handler",
            function.handler,
            "--function-name",
            function.name,
            "--function-arn",
            function.arn,
            "--batch-size",
            str(batch_size),
            "--timeout",
            str(function.timeout_seconds),
            "--memory",
            str(function.memory_mb),
            "--ready-file",
            str(self._work_dir / f"{key}.ready"),
            "--wait-time",
            str(LOCAL_POLL_WAIT_SECONDS),
            "--parent-pid",
            str(os.getpid()),
            *extra,
        ]
        if self.retry_delay_seconds is not None:
            command += ["--retry-delay", str(self.retry_delay_seconds)]
        return WorkerProcess(
            key=key,
            function_logical_id=function_logical_id,
            queue_url=queue_url,
            command=command,
            environment=self.worker_environment(function),
            log_path=(self._log_dir / f"{key}.log") if self._log_dir else None,
            ready_file=self._work_dir / f"{key}.ready",
        )

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
        """Run an extra consumer (a test or benchmark handler) against any queue; stopped with the stack."""
        function = FunctionSpec(
            logical_id=key,
            name=function_name or key,
            arn=f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name or key}",
            handler=handler,
            runtime="python3",
            memory_mb=128,
            timeout_seconds=timeout_seconds,
            environment=dict(environment or {}),
        )
        extra = ["--batching-window", str(batching_window_seconds)]
        if report_batch_item_failures:
            extra.append("--report-batch-item-failures")
        worker = self._consumer(key, key, queue_url, function, batch_size=batch_size, extra=extra)
        self.workers[key] = worker
        self._launch([worker])
        return worker

    def stop_consumer(self, key: str) -> None:
        """Stop and forget a consumer started with :meth:`start_consumer`."""
        worker = self.workers.pop(key, None)
        if worker is not None:
            worker.stop()

    def _launch(self, workers: Iterable[WorkerProcess]) -> None:
        pending = list(workers)
        for worker in pending:
            worker.start()
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_SECONDS
        for worker in pending:
            worker.wait_ready(deadline)

    def check_workers(self) -> None:
        """Raise if any worker process has died."""
        dead = [key for key, worker in self.workers.items() if not worker.alive]
        if dead:
            msg = f"worker(s) died: {dead}"
            raise WorkerError(msg)

    @contextlib.contextmanager
    def paused(self, *names: str) -> Iterator[None]:
        """Stop the workers of these functions or queues (logical ids) for the block, then restart them.

        Lets a test read a queue a worker would otherwise drain.
        """
        queue_urls = {
            self.physical_id(n) for n in names if n in self.resources and self.resources[n].type == "AWS::SQS::Queue"
        }
        chosen = [
            worker
            for worker in self.workers.values()
            if worker.function_logical_id in names or worker.key in names or worker.queue_url in queue_urls
        ]
        _stop_all(chosen)
        try:
            yield
        finally:
            if not self._stopped:
                self._launch(chosen)

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


def _stop_all(workers: Iterable[WorkerProcess]) -> None:
    # Signal every worker first so their last polls finish in parallel, not one after another.
    chosen = list(workers)
    for worker in chosen:
        worker.terminate()
    for worker in chosen:
        worker.stop()


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class _BedrockBoot:
    """Start the offline Bedrock in a thread, so its model warm-up overlaps the deployment."""

    def __init__(self) -> None:
        self._result: tuple[Any, str | None] = (None, None)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="offline-bedrock-boot", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = _start_offline_bedrock()
        except Exception as error:
            self._error = error

    def result(self) -> tuple[Any, str | None]:
        """(server, url), or (None, None) if the module is not there; re-raises a failed start."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    def discard(self) -> None:
        """Stop the server if it started (boot failed elsewhere)."""
        self._thread.join()
        server = self._result[0]
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()


def _start_offline_bedrock() -> tuple[Any, str | None]:
    try:
        server_module = importlib.import_module("supportflow.bedrock_offline.server")
    except ImportError as error:
        logger.warning("offline Bedrock not available; workers get no Bedrock endpoint", extra={"error": repr(error)})
        return None, None
    server = server_module.OfflineBedrock(host="127.0.0.1", port=0)
    url = str(server.start())
    logger.info("offline Bedrock started", extra={"bedrock_url": url})
    return server, url
