"""Fault injection: configured rules and per-request ``x-supportflow-fault`` headers."""

from __future__ import annotations

import fnmatch
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FAULT_HEADER = "x-supportflow-fault"
FAULTS_ENV = "SUPPORTFLOW_BEDROCK_FAULTS"

# fault kind -> (HTTP status, x-amzn-ErrorType, message), as Bedrock answers them.
HTTP_FAULTS: dict[str, tuple[int, str, str]] = {
    "throttle": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "unavailable": (503, "ServiceUnavailableException", "The service is temporarily unable to handle the request."),
    "model-timeout": (
        408,
        "ModelTimeoutException",
        "Model has timed out in processing the request. Try your request again.",
    ),
    "internal": (500, "InternalServerException", "The server encountered an internal error. Try your request again."),
    "not-ready": (429, "ModelNotReadyException", "Model is not ready to serve inference requests."),
    "access-denied": (403, "AccessDeniedException", "You don't have access to the model with the specified model ID."),
    "validation": (400, "ValidationException", "Injected validation failure."),
}
# stream fault kind -> (event-stream :exception-type, message)
STREAM_FAULTS: dict[str, tuple[str, str]] = {
    "stream-throttle": ("throttlingException", "Too many requests, please wait before trying again."),
    "stream-error": ("modelStreamErrorException", "The model stream was interrupted."),
    "stream-unavailable": ("serviceUnavailableException", "The service is temporarily unable to handle the request."),
    "stream-internal": ("internalServerException", "The server encountered an internal error."),
}
STREAMING_OPERATIONS = {"ConverseStream", "InvokeModelWithResponseStream"}


@dataclass
class Fault:
    """What to do to one request: an HTTP error, a mid-stream exception, and/or added latency."""

    http: str | None = None
    stream: str | None = None
    stream_after: int = 2  # deltas sent before the exception frame
    latency_ms: int = 0

    def merge(self, other: Fault) -> Fault:
        """Combine two faults; the first HTTP/stream fault wins and latencies add up."""
        return Fault(
            http=self.http or other.http,
            stream=self.stream or other.stream,
            stream_after=self.stream_after if self.stream else other.stream_after,
            latency_ms=self.latency_ms + other.latency_ms,
        )


@dataclass
class FaultRule:
    """Apply ``fault`` to calls matching operation/model; only the first ``first`` matches if set."""

    fault: str
    operation: str | None = None
    model: str | None = None  # glob, e.g. "anthropic.*"
    first: int | None = None
    latency_ms: int = 0
    after: int = 2
    seen: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.fault not in HTTP_FAULTS and self.fault not in STREAM_FAULTS and self.fault != "latency":
            raise ValueError(f"unknown fault kind {self.fault!r}")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FaultRule:
        """Build from JSON: ``{"fault": "throttle", "model": "anthropic.*", "first": 2}``."""
        allowed = {"fault", "operation", "model", "first", "latency_ms", "after"}
        unknown = set(raw) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule keys {sorted(unknown)}")
        return cls(**{k: raw[k] for k in allowed if k in raw})

    def matches(self, operation: str, model_id: str) -> bool:
        """True if this rule targets the call."""
        if self.operation and self.operation != operation:
            return False
        return not (self.model and not fnmatch.fnmatchcase(model_id, self.model))


class FaultPlan:
    """The configured rules; thread-safe, counts matches so "first N" rules expire."""

    def __init__(self, rules: Iterable[FaultRule | Mapping[str, Any]] = ()) -> None:
        self._rules = [r if isinstance(r, FaultRule) else FaultRule.from_dict(r) for r in rules]
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> FaultPlan:
        """Load rules from the JSON file named by ``$SUPPORTFLOW_BEDROCK_FAULTS`` (none if unset)."""
        path = os.environ.get(FAULTS_ENV)
        if not path:
            return cls()
        return cls.from_file(Path(path))

    @classmethod
    def from_file(cls, path: Path) -> FaultPlan:
        """Rules from a JSON file: a list of rules or ``{"rules": [...]}``."""
        data = json.loads(path.read_text(encoding="utf-8"))
        rules = data.get("rules", []) if isinstance(data, dict) else data
        return cls(rules)

    def add(self, rule: FaultRule | Mapping[str, Any]) -> None:
        """Add a rule at run time."""
        with self._lock:
            self._rules.append(rule if isinstance(rule, FaultRule) else FaultRule.from_dict(rule))

    def clear(self) -> None:
        """Drop every rule."""
        with self._lock:
            self._rules.clear()

    def decide(self, operation: str, model_id: str, header: str | None) -> Fault:
        """The fault for this call: header directives first, then matching rules."""
        fault = parse_header(header) if header else Fault()
        streaming = operation in STREAMING_OPERATIONS
        with self._lock:
            for rule in self._rules:
                if not rule.matches(operation, model_id):
                    continue
                if rule.fault in STREAM_FAULTS and not streaming:
                    continue
                rule.seen += 1
                if rule.first is not None and rule.seen > rule.first:
                    continue
                fault = fault.merge(_rule_fault(rule))
        return fault


def _rule_fault(rule: FaultRule) -> Fault:
    if rule.fault == "latency":
        return Fault(latency_ms=rule.latency_ms)
    if rule.fault in STREAM_FAULTS:
        return Fault(stream=rule.fault, stream_after=rule.after, latency_ms=rule.latency_ms)
    return Fault(http=rule.fault, latency_ms=rule.latency_ms)


def parse_header(value: str) -> Fault:
    """Parse ``throttle``, ``latency=200``, ``stream-throttle`` or ``stream-throttle@3``, comma-separated."""
    fault = Fault()
    for raw in value.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        if item.startswith("latency="):
            fault.latency_ms += int(item.split("=", 1)[1])
            continue
        name, _, after = item.partition("@")
        if name in HTTP_FAULTS and fault.http is None:
            fault.http = name
        elif name in STREAM_FAULTS and fault.stream is None:
            fault.stream = name
            fault.stream_after = int(after) if after else 2
        elif name not in HTTP_FAULTS and name not in STREAM_FAULTS:
            raise ValueError(f"unknown fault {name!r} in {FAULT_HEADER}")
    return fault
