"""The suite's one root conftest: test-wide safety, folder = marker, and the fixtures every folder shares.

- No real AWS account is reachable: dummy credentials are forced before any worker module builds a client.
- The folder says what a test is: everything under ``tests/integration`` is marked ``integration``
  (so ``make unit`` / ``make integration`` select by folder); a test under ``tests/unit`` that asks for an
  emulator or server fixture, carries the ``integration`` marker, or opens a network connection fails.
- Shared fixtures live here once: ``load_event`` (samples in ``events/``) and ``offline_bedrock`` (ONE
  offline Bedrock server per session). Shared values live in ``tests/constants.py``.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.constants import DUMMY_CREDENTIALS, EVENTS_DIR, TEST_ENVIRONMENT

if TYPE_CHECKING:
    from supportflow.bedrock_offline.server import OfflineBedrock

ROOT = Path(__file__).resolve().parent.parent
UNIT_DIR = ROOT / "tests" / "unit"
INTEGRATION_DIR = ROOT / "tests" / "integration"

# Fixtures that boot an emulator or a server: integration only.
INTEGRATION_FIXTURES = frozenset({"local_stack", "crm_stack", "offline_bedrock"})

# Forced, not defaulted: a developer's real credentials in the shell must never reach a test.
os.environ.update(DUMMY_CREDENTIALS)
for key, value in {
    **TEST_ENVIRONMENT,
    "POWERTOOLS_METRICS_NAMESPACE": "supportflow-tests",
    "POWERTOOLS_SERVICE_NAME": "tests",
}.items():
    os.environ.setdefault(key, value)
for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(key, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration; refuse a unit test that needs an emulator or server."""
    misplaced: list[str] = []
    for item in items:
        path = Path(item.path)
        if path.is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)
        elif path.is_relative_to(UNIT_DIR):
            needs = sorted(INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())))
            if needs:
                misplaced.append(f"{item.nodeid}: uses {', '.join(needs)}")
            elif item.get_closest_marker("integration"):
                misplaced.append(f"{item.nodeid}: marked integration")
        else:
            misplaced.append(f"{item.nodeid}: neither under tests/unit nor tests/integration")
    if misplaced:
        raise pytest.UsageError(
            "tests in the wrong folder (unit needs no emulator, server or socket; integration does):\n  "
            + "\n  ".join(misplaced)
        )


class NetworkInUnitTestError(RuntimeError):
    """A unit test tried to open a network connection."""


def _refusing(method: Callable[..., Any], nodeid: str) -> Callable[..., Any]:
    def guarded(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkInUnitTestError(f"{nodeid} opened a network socket: it belongs under tests/integration")
        return method(sock, *args, **kwargs)

    return guarded


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under tests/unit, connecting or binding an internet socket raises (unit tests use fakes, not servers)."""
    if Path(request.node.path).is_relative_to(UNIT_DIR):
        for name in ("connect", "connect_ex", "bind"):
            monkeypatch.setattr(socket.socket, name, _refusing(getattr(socket.socket, name), request.node.nodeid))


@pytest.fixture
def load_event() -> Callable[[str], dict[str, Any]]:
    """Load a sample event from ``events/`` by relative name (``TicketSubmitted`` or ``tickets/x``)."""

    def load(name: str) -> dict[str, Any]:
        path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    return load


@pytest.fixture(scope="session")
def offline_bedrock() -> Iterator[OfflineBedrock]:
    """The session's one offline Bedrock HTTP server (no fault rules); a test that adds faults clears them."""
    from supportflow.bedrock_offline.faults import FaultPlan  # noqa: PLC0415 - heavy: only when a test asks
    from supportflow.bedrock_offline.server import OfflineBedrock  # noqa: PLC0415

    server = OfflineBedrock(host="127.0.0.1", port=0, faults=FaultPlan())
    server.start()
    try:
        yield server
    finally:
        server.stop()
