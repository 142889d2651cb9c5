"""Lambda authorizers of a local REST API, as API Gateway runs them.

TOKEN and REQUEST authorizers run in a process of their own with their function's environment (as their
Lambda would); identity sources are checked, the result is cached per identity for the configured TTL,
the returned policy is evaluated against the method ARN, and the context reaches the integration as
``requestContext.authorizer``. An authorizer failing with "Unauthorized" is a 401; a Deny is a 403.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from supportflow.local.apigateway.proxy import HttpRequest
from supportflow.local.apigateway.spec import AuthorizerSpec

_SOURCE_PREFIXES = {"method.request.header.": "header", "method.request.querystring.": "query"}


@dataclass(frozen=True)
class AuthResult:
    """What the gateway does next: pass with a context, or answer ``status``."""

    allowed: bool
    status: int = 200
    principal_id: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    usage_identifier_key: str | None = None


def identity_of(spec: AuthorizerSpec, request: HttpRequest) -> tuple[str, ...] | None:
    """The identity source values of a request, or None when one is missing."""
    headers = {name.lower(): value for name, value in request.headers}
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    values: list[str] = []
    for source in (s.strip() for s in spec.identity_source.split(",") if s.strip()):
        prefix = next((p for p in _SOURCE_PREFIXES if source.startswith(p)), None)
        if prefix is None:
            continue  # context / stage variables: not emulated, never missing
        name = source[len(prefix) :]
        value = headers.get(name.lower()) if _SOURCE_PREFIXES[prefix] == "header" else query.get(name)
        if not value:
            return None
        values.append(value)
    return tuple(values)


class AuthorizerError(RuntimeError):
    """The authorizer failed other than with "Unauthorized", or returned no valid policy (API Gateway's 500)."""


class AuthorizerProcess:
    """The authorizer function in its own interpreter, one JSON line in and out per invocation."""

    def __init__(self, spec: AuthorizerSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        environment = dict(os.environ)
        if self.spec.environment_file:
            environment = json.loads(Path(self.spec.environment_file).read_text(encoding="utf-8"))
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "supportflow.local.apigateway.authorizer_host", self.spec.handler],
            cwd=Path(__file__).resolve().parents[3],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """One invocation: the handler's result, or raise its failure."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps(event).encode() + b"\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise AuthorizerError("authorizer process exited")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            if answer["error"] == "Unauthorized":
                raise PermissionError("Unauthorized")
            raise AuthorizerError(str(answer.get("type")))
        return dict(answer["result"])

    def stop(self) -> None:
        """End the process."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(5)


def policy_allows(policy: dict[str, Any], method_arn: str) -> bool:
    """IAM evaluation of an authorizer policy for one method ARN: an explicit Deny wins, else any Allow."""
    allowed = False
    statements = policy.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action") or []
        resources = statement.get("Resource") or []
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


class Authorizers:
    """Every authorizer of one API, their processes and their result cache."""

    def __init__(self, specs: dict[str, AuthorizerSpec], processes: dict[str, Any] | None = None) -> None:
        self.specs = specs
        self.processes: dict[str, Any] = processes or {key: AuthorizerProcess(spec) for key, spec in specs.items()}
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.invocations = 0

    def authorize(self, authorizer_id: str, request: HttpRequest, event: dict[str, Any], method_arn: str) -> AuthResult:
        """Run (or reuse the cached answer of) the route's authorizer, and evaluate its policy."""
        spec = self.specs[authorizer_id]
        identity = identity_of(spec, request)
        if identity is None and (spec.ttl_seconds > 0 or spec.type == "TOKEN"):
            return AuthResult(False, 401)
        key = (authorizer_id, identity or ())
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key) if spec.ttl_seconds > 0 else None
        if cached is not None and cached[0] > now:
            result = cached[1]
        else:
            try:
                result = self.processes[authorizer_id].invoke(self._event(spec, request, event, method_arn))
            except PermissionError:
                return AuthResult(False, 401)
            self.invocations += 1
            if spec.ttl_seconds > 0:
                with self._lock:
                    self._cache[key] = (now + spec.ttl_seconds, result)
        document = result.get("policyDocument")
        if not isinstance(document, dict) or "principalId" not in result:
            raise AuthorizerError("the authorizer returned no policy document or principal")
        if not policy_allows(document, method_arn):
            return AuthResult(False, 403)
        context = {str(k): _context_value(v) for k, v in (result.get("context") or {}).items()}
        return AuthResult(True, 200, str(result["principalId"]), context, result.get("usageIdentifierKey"))

    @staticmethod
    def _event(spec: AuthorizerSpec, request: HttpRequest, event: dict[str, Any], method_arn: str) -> dict[str, Any]:
        if spec.type == "TOKEN":
            header = spec.identity_source.removeprefix("method.request.header.").lower()
            token = next((v for n, v in request.headers if n.lower() == header), "")
            return {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        request_event = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
        return {"type": "REQUEST", "methodArn": method_arn, **request_event}

    def stop(self) -> None:
        """End every authorizer process."""
        for process in self.processes.values():
            process.stop()


def _context_value(value: Any) -> str:
    # REST APIs hand the integration the context's scalars as strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def method_arn(api_id: str, stage: str, method: str, path: str) -> str:
    """``arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>``, as API Gateway builds it."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return f"arn:aws:execute-api:{region}:000000000000:{api_id}/{stage}/{method}/{path.lstrip('/')}"
