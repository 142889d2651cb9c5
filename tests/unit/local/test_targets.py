"""Where the stack deploys: target resolution as localstack-client resolves LocalStack, and a clear error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from supportflow.local.emulator import free_port
from supportflow.local.resources import ALL_BRIDGE_KINDS
from supportflow.local.stack import EmulatedStack
from supportflow.local.targets import TargetError, TargetUnavailableError, check_localstack, resolve_target

_TARGET_VARIABLES = ("SUPPORTFLOW_TARGET", "AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "USE_SSL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No target variable leaks in from the developer's shell."""
    for name in _TARGET_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_default_target_is_the_embedded_moto_with_every_bridge() -> None:
    # Given no target named and no endpoint, When resolved, Then moto boots in process with all bridges
    target = resolve_target()
    assert target.name == "embedded"
    assert target.endpoint_url is None
    assert target.bridge_kinds == ALL_BRIDGE_KINDS
    assert target.unknown_targets_fail


def test_localstack_defaults_to_the_edge_port_and_bridges_only_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SUPPORTFLOW_TARGET=localstack and nothing else
    monkeypatch.setenv("SUPPORTFLOW_TARGET", "localstack")
    # When resolved
    target = resolve_target()
    # Then LocalStack's edge port on localhost, SNS and Step Functions delivered natively, Lambda bridged
    assert target.name == "localstack"
    assert target.endpoint_url == "http://localhost:4566"
    assert target.bridge_kinds == frozenset({"lambda"})
    assert not target.unknown_targets_fail


def test_localstack_host_and_ssl_are_honoured_as_localstack_client_does(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given LOCALSTACK_HOST and USE_SSL, as localstack-client reads them
    monkeypatch.setenv("LOCALSTACK_HOST", "ls.internal:4567")
    monkeypatch.setenv("USE_SSL", "1")
    # Then the localstack target is found there
    assert resolve_target("localstack").endpoint_url == "https://ls.internal:4567"


def test_aws_endpoint_url_wins_for_localstack_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given AWS_ENDPOINT_URL set (localstack-client's first choice) and a LOCALSTACK_HOST
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599/")
    monkeypatch.setenv("LOCALSTACK_HOST", "elsewhere:4566")
    # Then the localstack target uses AWS_ENDPOINT_URL
    assert resolve_target("localstack").endpoint_url == "http://127.0.0.1:4599"


def test_an_endpoint_without_a_name_is_the_endpoint_target(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given only AWS_ENDPOINT_URL, Then the stack deploys there (and probes at boot whether it is moto)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    target = resolve_target()
    assert (target.name, target.endpoint_url) == ("endpoint", "http://127.0.0.1:5000")


def test_a_named_target_beats_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SUPPORTFLOW_TARGET=localstack, When the caller names embedded, Then embedded it is
    monkeypatch.setenv("SUPPORTFLOW_TARGET", "localstack")
    assert resolve_target("embedded").name == "embedded"


@pytest.mark.parametrize(("name", "reason"), [("endpoint", "needs an endpoint URL"), ("aws", "unknown target")])
def test_unresolvable_targets_are_refused_with_the_reason(name: str, reason: str) -> None:
    # Given an endpoint target with no endpoint, or a name that is no target, Then a TargetError says why
    with pytest.raises(TargetError, match=reason):
        resolve_target(name)


class _FakeLocalStackHealth(BaseHTTPRequestHandler):
    """Answers /_localstack/health as LocalStack does; anything else 404."""

    body: dict[str, object] = {"services": {"sqs": "running", "events": "available"}, "edition": "community"}

    def do_GET(self) -> None:
        payload = json.dumps(self.body).encode() if self.path == "/_localstack/health" else b""
        self.send_response(200 if payload else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request stderr line."""


class _NotLocalStack(_FakeLocalStackHealth):
    body = {"status": "ok"}


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def localstack_health() -> Iterator[str]:
    """An HTTP endpoint that answers LocalStack's health check."""
    yield from _serve(_FakeLocalStackHealth)


@pytest.fixture
def other_http_server() -> Iterator[str]:
    """An HTTP endpoint that is not LocalStack."""
    yield from _serve(_NotLocalStack)


def test_a_running_localstack_is_recognised_by_its_health_endpoint(localstack_health: str) -> None:
    # Given an endpoint answering /_localstack/health, When checked, Then its service states come back
    assert check_localstack(localstack_health)["sqs"] == "running"


def test_no_localstack_is_a_clear_error_that_says_how_to_start_one() -> None:
    # Given nothing listening, When checked, Then the error names the endpoint and how to fix it
    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TargetUnavailableError, match="no LocalStack answers at") as raised:
        check_localstack(endpoint, timeout=2)
    assert endpoint in str(raised.value)
    assert "LOCALSTACK_HOST" in str(raised.value)


def test_another_server_on_the_port_is_not_taken_for_localstack(other_http_server: str) -> None:
    # Given an HTTP server that is not LocalStack, Then the check refuses it
    with pytest.raises(TargetUnavailableError, match="not as LocalStack"):
        check_localstack(other_http_server)


def test_the_stack_refuses_to_boot_when_no_localstack_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given --target localstack pointing where nothing listens
    monkeypatch.setenv("LOCALSTACK_HOST", f"127.0.0.1:{free_port()}")
    # When the stack starts, Then it stops before booting anything, with the clear error
    with pytest.raises(TargetUnavailableError, match="no LocalStack answers"):
        EmulatedStack.start(target="localstack", workers=False, bedrock=False)
