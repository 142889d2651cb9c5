"""Probing for LocalStack over HTTP: a served health endpoint is recognised, anything else is a clear error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from supportflow.local.emulator import free_port
from supportflow.local.stack import EmulatedStack
from supportflow.local.targets import TargetUnavailableError, check_localstack


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No target variable leaks in from the developer's shell."""
    for name in ("SUPPORTFLOW_TARGET", "AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)


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
