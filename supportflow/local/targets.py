"""Where the stack deploys: the embedded moto (default), a running LocalStack, or any other endpoint.

Each target says which EventBridge targets need an SQS bridge there. moto delivers EventBridge events
only to SQS, Logs and other buses, so SNS, Step Functions and Lambda targets are bridged. LocalStack
delivers to SNS and Step Functions natively; Lambda targets stay bridged everywhere, because locally
a function's code runs in a consumer process, not in the emulator's Lambda (which holds a placeholder).
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from typing import Literal, get_args

from localstack_client import config as localstack_config

from supportflow.local.resources import ALL_BRIDGE_KINDS, BridgeKind

TargetName = Literal["embedded", "localstack", "endpoint"]
TARGET_NAMES: tuple[str, ...] = get_args(TargetName)
TARGET_VARIABLE = "SUPPORTFLOW_TARGET"
LOCALSTACK_HEALTH_PATH = "/_localstack/health"
_LOCALSTACK_BRIDGE_KINDS: frozenset[BridgeKind] = frozenset({"lambda"})


class TargetError(RuntimeError):
    """The target cannot be resolved: unknown name, or no endpoint where one is needed."""


class TargetUnavailableError(TargetError):
    """The chosen target does not answer (or is not what it was named)."""


@dataclass(frozen=True)
class Target:
    """A resolved deployment target."""

    name: TargetName
    # None: boot moto in this process.
    endpoint_url: str | None
    bridge_kinds: frozenset[BridgeKind]
    # Whether a target service that is neither delivered nor bridged stops the boot.
    unknown_targets_fail: bool


def resolve_target(name: str | None = None, endpoint_url: str | None = None) -> Target:
    """The target named (or ``$SUPPORTFLOW_TARGET``); with no name, an endpoint given or in the environment wins.

    ``localstack`` finds LocalStack as ``localstack-client`` does: ``$AWS_ENDPOINT_URL``, else
    ``$LOCALSTACK_HOST`` (default ``localhost:4566``), https when ``$USE_SSL`` is set.
    """
    chosen = (name or os.environ.get(TARGET_VARIABLE) or "").strip().lower()
    external = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    if not chosen:
        chosen = "endpoint" if external else "embedded"
    if chosen == "embedded":
        return Target("embedded", None, ALL_BRIDGE_KINDS, unknown_targets_fail=True)
    if chosen == "localstack":
        url = endpoint_url or str(localstack_config.get_service_endpoint("sqs"))
        return Target("localstack", url.rstrip("/"), _LOCALSTACK_BRIDGE_KINDS, unknown_targets_fail=False)
    if chosen == "endpoint":
        if not external:
            msg = "target 'endpoint' needs an endpoint URL (--endpoint-url or AWS_ENDPOINT_URL)"
            raise TargetError(msg)
        # What the endpoint is (a moto server needs moto's bridges) is probed at boot.
        return Target("endpoint", external.rstrip("/"), _LOCALSTACK_BRIDGE_KINDS, unknown_targets_fail=False)
    msg = f"unknown target {chosen!r}: choose one of {', '.join(TARGET_NAMES)}"
    raise TargetError(msg)


def check_localstack(endpoint_url: str, timeout: float = 5.0) -> dict[str, str]:
    """LocalStack's service states from its health endpoint; raise a clear error if none answers."""
    url = f"{endpoint_url.rstrip('/')}{LOCALSTACK_HEALTH_PATH}"
    hint = (
        "start one (`localstack start`, or `docker run --rm -p 4566:4566 localstack/localstack`) or point"
        " LOCALSTACK_HOST=host:port / AWS_ENDPOINT_URL at it"
    )
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a local endpoint
            body = json.loads(response.read() or b"{}")
    except (OSError, ValueError) as error:
        msg = f"no LocalStack answers at {endpoint_url} ({type(error).__name__}): {hint}"
        raise TargetUnavailableError(msg) from error
    services = body.get("services") if isinstance(body, dict) else None
    if not isinstance(services, dict):
        msg = f"{endpoint_url} answers, but not as LocalStack ({LOCALSTACK_HEALTH_PATH} has no services): {hint}"
        raise TargetUnavailableError(msg)
    return {str(k): str(v) for k, v in services.items()}
