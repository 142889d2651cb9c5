"""Lambda: functions (placeholder code; handlers run in local consumers) and SQS event source mappings."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources.registry import (
    Created,
    Deployment,
    EventSourceSpec,
    FunctionSpec,
    creates,
    tags,
)

_PLACEHOLDER_CODE = "def handler(event, context):\n    raise RuntimeError('runs in the local consumer')\n"


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", _PLACEHOLDER_CODE)
    return buffer.getvalue()


@creates("AWS::Lambda::Function")
def create_function(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Lambda function with a placeholder zip (so ARNs resolve); its handler runs in a local consumer."""
    name = properties.get("FunctionName") or deployment.physical_name(logical_id, 64)
    environment = {str(k): str(v) for k, v in ((properties.get("Environment") or {}).get("Variables") or {}).items()}
    memory = int(properties.get("MemorySize", 128))
    timeout = int(properties.get("Timeout", 3))
    kwargs: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": properties.get("Runtime", "python3.12"),
        "Role": properties["Role"],
        "Handler": properties["Handler"],
        "Code": {"ZipFile": _placeholder_zip()},
        "MemorySize": memory,
        "Timeout": timeout,
        "Environment": {"Variables": environment},
    }
    for key in ("Description", "TracingConfig", "Architectures", "EphemeralStorage", "Layers"):
        if properties.get(key):
            kwargs[key] = properties[key]
    if tags(properties):
        kwargs["Tags"] = {t["Key"]: t["Value"] for t in tags(properties)}
    arn = deployment.clients.lambda_.create_function(**kwargs)["FunctionArn"]
    deployment.functions[logical_id] = FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=arn,
        handler=str(properties["Handler"]),
        runtime=str(kwargs["Runtime"]),
        memory_mb=memory,
        timeout_seconds=timeout,
        environment=environment,
    )
    return Created(ref=name, attributes={"Arn": arn}, note="code runs in a local consumer process")


@creates("AWS::Lambda::EventSourceMapping")
def create_event_source_mapping(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Event source mapping, recorded disabled in the emulator: a local consumer process is the poller."""
    function_ref = str(properties["FunctionName"])
    function = next((f for f in deployment.functions.values() if function_ref in (f.name, f.arn, f.logical_id)), None)
    source_arn = str(properties["EventSourceArn"])
    if function is None or source_arn not in deployment.queue_urls_by_arn:
        msg = f"{logical_id}: only SQS event sources of functions in this template run locally ({source_arn})"
        raise TemplateError(msg)
    kwargs: dict[str, Any] = {
        "EventSourceArn": source_arn,
        "FunctionName": function.name,
        # Enabled in moto, its own poller would "invoke" (echo) and delete every message.
        "Enabled": False,
    }
    for key in ("BatchSize", "MaximumBatchingWindowInSeconds"):
        if properties.get(key) is not None:
            kwargs[key] = int(properties[key])
    if properties.get("FunctionResponseTypes"):
        kwargs["FunctionResponseTypes"] = list(properties["FunctionResponseTypes"])
    uuid = deployment.clients.lambda_.create_event_source_mapping(**kwargs)["UUID"]
    enabled = str(properties.get("Enabled", "true")).lower() != "false"
    maximum_concurrency = (properties.get("ScalingConfig") or {}).get("MaximumConcurrency")
    deployment.event_sources.append(
        EventSourceSpec(
            logical_id=logical_id,
            function_logical_id=function.logical_id,
            queue_url=deployment.queue_urls_by_arn[source_arn],
            queue_arn=source_arn,
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
            enabled=enabled,
            maximum_concurrency=None if maximum_concurrency is None else int(maximum_concurrency),
        )
    )
    return Created(ref=uuid, attributes={"Id": uuid}, note="polled by a local consumer process")
