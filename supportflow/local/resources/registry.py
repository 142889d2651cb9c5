"""The creator registry: spec dataclasses, ``Deployment``, ``creates`` / ``CREATORS`` and ``NOT_EMULATED``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from supportflow.local.clients import Clients

Status = Literal["created", "bridged", "not-emulated", "condition-false"]
BridgeKind = Literal["sns", "states", "lambda"]
# moto delivers EventBridge events to none of these: each such target is bridged through an SQS queue.
ALL_BRIDGE_KINDS: frozenset[BridgeKind] = frozenset({"sns", "states", "lambda"})

# Types deliberately not created, and why. The coverage test accepts exactly these.
NOT_EMULATED: dict[str, str] = {
    "AWS::Lambda::Permission": (
        "resource-based invoke permissions: locally no service invokes a function through Lambda; "
        "consumers and bridges call the handler directly"
    ),
    "AWS::XRay::Group": "tracing is off locally (POWERTOOLS_TRACE_DISABLED=true)",
    "AWS::XRay::SamplingRule": "tracing is off locally (POWERTOOLS_TRACE_DISABLED=true)",
}


@dataclass
class ResourceInfo:
    """What the local stack did with one logical resource."""

    logical_id: str
    type: str
    status: Status
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Bridge:
    """An EventBridge target moto cannot deliver to, replaced by an SQS queue plus a forwarder."""

    rule_logical_id: str
    target_id: str
    target_arn: str
    kind: BridgeKind
    queue_url: str
    queue_arn: str
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function as the local consumers run it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    environment: dict[str, str]


@dataclass(frozen=True)
class EventSourceSpec:
    """An SQS event source mapping, polled locally by a consumer process."""

    logical_id: str
    function_logical_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    enabled: bool
    # ScalingConfig.MaximumConcurrency: pollers of the local consumer (None: the mapping sets no cap).
    maximum_concurrency: int | None = None


@dataclass
class Created:
    """What a creator returns: the Ref value, the GetAtt attributes, and a note for the operator."""

    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    status: Status = "created"


@dataclass
class Deployment:
    """Everything creators share: clients, naming, and what has been created so far."""

    clients: Clients
    stack_name: str
    region: str
    account_id: str
    partition: str = "aws"
    # EventBridge target kinds the emulator cannot deliver to, replaced by an SQS bridge and a forwarder.
    bridge_kinds: frozenset[BridgeKind] = ALL_BRIDGE_KINDS
    # A target service that is neither delivered nor bridged stops the boot (moto would fail PutEvents).
    unknown_targets_fail: bool = True
    bridges: list[Bridge] = field(default_factory=list)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    event_sources: list[EventSourceSpec] = field(default_factory=list)
    queue_urls_by_arn: dict[str, str] = field(default_factory=dict)

    def physical_name(self, logical_id: str, max_length: int = 64, suffix: str = "") -> str:
        """A CloudFormation-like generated name, ``<stack>-<LogicalId>``, within the service's limit."""
        base = re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.stack_name}-{logical_id}")
        return base[: max_length - len(suffix)] + suffix


Creator = Callable[[Deployment, str, dict[str, Any]], Created]
CREATORS: dict[str, Creator] = {}


def creates(resource_type: str) -> Callable[[Creator], Creator]:
    """Register a creator for ``resource_type``."""

    def register(creator: Creator) -> Creator:
        CREATORS[resource_type] = creator
        return creator

    return register


def tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    """CloudFormation ``Tags`` (a list of Key/Value or a SAM map) as a Key/Value list."""
    raw = properties.get("Tags") or []
    if isinstance(raw, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in raw.items()]
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in raw]


def json_text(value: Any) -> str:
    """A policy or pattern as JSON text (templates give either a string or a mapping)."""
    return value if isinstance(value, str) else json.dumps(value)
