"""The template's functions really run as consumers, with the environment the template gives them."""

from __future__ import annotations

import pytest

from supportflow.local import EmulatedStack
from supportflow.local.observe import in_flow, load_event, put_bus_event, take_messages
from tests.constants import EVENTS_DIR

pytestmark = pytest.mark.integration

EVENTS = EVENTS_DIR


def test_every_function_with_a_queue_event_source_has_a_running_worker(local_stack: EmulatedStack) -> None:
    # Given the functions the template wires to SQS (with the default parameters every mapping is enabled)
    expected = {source.logical_id for source in local_stack.event_sources}
    assert "IntakeFunctionIntakeQueueEvent" in expected
    # Then each has a live consumer: none was skipped (e.g. for a missing handler module), none gave up
    assert local_stack.skipped_workers == {}
    assert expected <= set(local_stack.workers)
    local_stack.check_workers()


def test_worker_environment_is_the_templates_resolved_environment(local_stack: EmulatedStack) -> None:
    # Given the intake function, Then its worker gets the template's variables, resolved, plus endpoints
    function = local_stack.functions["IntakeFunction"]
    environment = local_stack.worker_environment(function)
    assert environment["EVENT_BUS_NAME"] == local_stack.physical_id("EventBus")
    assert environment["IDEMPOTENCY_TABLE_NAME"] == local_stack.physical_id("IdempotencyTable")
    assert environment["POWERTOOLS_SERVICE_NAME"] == "intake"
    assert environment["STAGE"] == local_stack.stage
    assert environment["AWS_ENDPOINT_URL"] == local_stack.endpoint_url
    assert environment["POWERTOOLS_TRACE_DISABLED"] == "true"
    if local_stack.bedrock_url:
        assert environment["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == local_stack.bedrock_url


def test_submitted_ticket_comes_out_accepted_on_its_priority_queue(local_stack: EmulatedStack, unique_id: str) -> None:
    # Given the running intake worker (its absence is a failure, not a skip)
    assert "IntakeFunctionIntakeQueueEvent" in local_stack.workers, local_stack.skipped_workers
    # When a high-priority sample ticket is submitted on the bus (with a unique correlation id)
    # (classify, which drains the high-priority queue, paused so the test can read it)
    sample = load_event(EVENTS / "TicketSubmitted.json")
    with local_stack.paused("ClassifyFunction"):
        put_bus_event(
            local_stack.clients.events,
            local_stack.physical_id("EventBus"),
            sample,
            {"correlation_id": f"T-{unique_id}", "ticket_id": f"T-{unique_id}"},
        )

        # Then the intake worker's TicketAccepted lands on the high-priority queue
        (message,) = take_messages(
            local_stack.clients.sqs, local_stack.physical_id("HighPriorityQueue"), in_flow(f"T-{unique_id}"), timeout=20
        )
    accepted = message.json
    assert accepted["detail-type"] == "TicketAccepted"
    assert accepted["source"] == "supportflow.intake"
    assert accepted["detail"]["priority"] == "high"
    assert "4111" not in accepted["detail"]["body"]
