"""Test-wide safety: no real AWS account is ever reachable from the test suite."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS_DIR = ROOT / "events"

# Set before any worker module builds a client: dummy credentials, a region, no X-Ray daemon, and EMF
# metrics in a namespace. Real endpoints are never configured here; integration tests point
# boto3 at the embedded emulator.
for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "supportflow-tests",
    "POWERTOOLS_SERVICE_NAME": "tests",
}.items():
    os.environ.setdefault(key, value)
for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(key, None)


@pytest.fixture
def load_event() -> Callable[[str], dict[str, Any]]:
    """Load a sample event from ``events/`` by relative name (``TicketSubmitted`` or ``tickets/x``)."""

    def load(name: str) -> dict[str, Any]:
        path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    return load
