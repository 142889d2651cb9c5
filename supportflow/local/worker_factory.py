"""How a function of the template becomes a consumer process: its environment and its ConsumerConfig."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from supportflow.local.clients import DUMMY_CREDENTIALS
from supportflow.local.resources import FunctionSpec
from supportflow.local.supervisor import WorkerProcess
from workers.shared.runtime.consumer import ConsumerConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Locally polls are short: a worker stops (SIGTERM waits for the current poll) within this.
LOCAL_POLL_WAIT_SECONDS = 2
# Local deviation: a received batch is hidden for the function's timeout plus its batching window plus
# this, not for the queue's VisibilityTimeout (minutes), so a killed worker's batch comes back soon.
LOCAL_VISIBILITY_MARGIN_SECONDS = 2
# Pollers per event source: its ScalingConfig.MaximumConcurrency as threads of one consumer process, so
# under a backlog the high-priority queue drains first, as on Lambda. A mapping without a cap gets one
# poller; caps above this are cut to it (the template's 10/5/2 keep their ratio; larger ones keep only
# their order), since the machine running the stack is one laptop, not Lambda's fleet.
LOCAL_MAX_POLLERS = 10
# Environment a worker inherits from ours; everything else comes from the template, as in Lambda.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "SYSTEMROOT")
_BEDROCK_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK",
    "AWS_ENDPOINT_URL_BEDROCK_DATA_AUTOMATION_RUNTIME",
    # The offline server also answers knowledge retrieval: Bedrock Knowledge Bases and Amazon Q Business.
    "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME",
    "AWS_ENDPOINT_URL_QBUSINESS",
)


@dataclass
class WorkerFactory:
    """Builds the worker processes of one stack (endpoint, region, Bedrock and local deviations)."""

    endpoint_url: str
    region: str
    work_dir: Path
    log_dir: Path | None
    retry_delay_seconds: int | None
    short_visibility: bool
    bedrock_url: str | None = None

    def environment(self, function: FunctionSpec | None = None) -> dict[str, str]:
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

    def worker(
        self,
        key: str,
        function: FunctionSpec,
        *,
        queue_url: str,
        batch_size: int,
        event_source_arn: str | None = None,
        batching_window_seconds: float = 0.0,
        report_batch_item_failures: bool = False,
        event_shape: str = "sqs",
        maximum_concurrency: int | None = None,
    ) -> WorkerProcess:
        """A (not yet started) consumer process running ``function``'s handler on ``queue_url``."""
        visibility = None
        if self.short_visibility:
            visibility = function.timeout_seconds + math.ceil(batching_window_seconds) + LOCAL_VISIBILITY_MARGIN_SECONDS
        config = ConsumerConfig(
            queue_url=queue_url,
            handler=function.handler,
            function_name=function.name,
            function_arn=function.arn,
            event_source_arn=event_source_arn,
            batch_size=batch_size,
            batching_window_seconds=batching_window_seconds,
            report_batch_item_failures=report_batch_item_failures,
            timeout_seconds=function.timeout_seconds,
            memory_mb=function.memory_mb,
            wait_time_seconds=LOCAL_POLL_WAIT_SECONDS,
            retry_delay_seconds=self.retry_delay_seconds,
            receive_visibility_seconds=visibility,
            event_shape=event_shape,
            concurrency=min(LOCAL_MAX_POLLERS, max(1, maximum_concurrency or 1)),
            ready_file=self.work_dir / f"{key}.ready",
            parent_pid=os.getpid(),
        )
        return WorkerProcess(
            key=key,
            function_logical_id=function.logical_id,
            config=config,
            environment=self.environment(function),
            cwd=PROJECT_ROOT,
            log_path=(self.log_dir / f"{key}.log") if self.log_dir else None,
        )
