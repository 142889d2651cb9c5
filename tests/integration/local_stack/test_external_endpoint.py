"""With an external endpoint (AWS_ENDPOINT_URL: a LocalStack, or here a moto server in its own process),
the stack deploys there instead of booting moto in process, and the pipeline works the same."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from supportflow.local import EmulatedStack
from supportflow.local.emulator import free_port, is_moto_server
from supportflow.local.observe import in_flow, load_event, put_bus_event, take_messages
from tests.constants import EVENTS_DIR

pytestmark = pytest.mark.integration

EVENTS = EVENTS_DIR


@pytest.fixture(scope="module")
def external_endpoint() -> Iterator[str]:
    """A moto server in another process, as a developer would run one beside the project."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not is_moto_server(url):
            assert server.poll() is None, "the external moto server exited"
            assert time.monotonic() < deadline, "the external moto server did not come up"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def test_stack_deploys_into_the_external_endpoint_and_intake_runs(external_endpoint: str) -> None:
    # Given AWS_ENDPOINT_URL pointing at an emulator this process did not start
    stage = f"ext-{uuid.uuid4().hex[:6]}"
    with EmulatedStack.start(stage=stage, endpoint_url=external_endpoint, workers=["IntakeFunction"]) as stack:
        # Then the resources live there, not in an in-process moto
        assert stack.emulator == "external" and stack.endpoint_url == external_endpoint
        queue_url = stack.physical_id("HighPriorityQueue")
        assert queue_url.startswith(external_endpoint)
        # When a ticket is submitted on its bus
        correlation_id = f"T-{uuid.uuid4().hex[:10]}"
        put_bus_event(
            stack.clients.events,
            stack.physical_id("EventBus"),
            load_event(EVENTS / "TicketSubmitted.json"),
            {"event_id": str(uuid.uuid4()), "correlation_id": correlation_id, "ticket_id": correlation_id},
        )

        # Then the intake worker (pointed at the same endpoint) routes it to the high-priority queue
        (accepted,) = take_messages(stack.clients.sqs, queue_url, in_flow(correlation_id), timeout=30)
        assert accepted.json["detail-type"] == "TicketAccepted"
        # And moto's gaps are bridged there too (an SNS target would otherwise fail every PutEvents)
        assert stack.resources["TicketRejectedRule"].status == "bridged"
