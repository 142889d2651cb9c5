"""The CRM update worker on the embedded stack: real TicketAnalyzed events in, the mock CRM served on 127.0.0.1.

The test reads the CRM over its own HTTP API (with the key from Secrets Manager) and watches the bus for
CrmRecordUpdated through a queue on a rule of its own.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import urllib3

from schemas.envelope import Event
from schemas.events import CrmRecordUpdated, EscalationResolved, ResponseDrafted, TicketAnalyzed
from supportflow.local import EmulatedStack
from supportflow.local.observe import (
    ReceivedMessage,
    load_event,
    peek_messages,
    put_bus_event,
    queue_depth,
    take_messages,
)

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"
SETTLE_TIMEOUT_SECONDS = 45.0
# Longer than the worker's 5 s read timeout, so its calls time out and are retried.
OUTAGE_SECONDS = 8.0


def carries_event(event_id: str) -> Callable[[ReceivedMessage], bool]:
    """Predicate: a bus event whose detail is the supportflow event with this id."""

    def match(message: ReceivedMessage) -> bool:
        body = message.json
        return isinstance(body, dict) and (body.get("detail") or {}).get("event_id") == event_id

    return match


@dataclass(frozen=True)
class Harness:
    """Publish analysed tickets, read the CRM, take the CrmRecordUpdated events of a flow."""

    stack: EmulatedStack
    updated_queue_url: str
    crm_url: str
    api_key: str

    def publish(self, ticket_id: str, customer_id: str, event_id: str, **detail: Any) -> None:
        """Put a TicketAnalyzed about this ticket on the bus, as the ticket record would."""
        self.publish_sample(TicketAnalyzed, ticket_id, customer_id, event_id, **detail)

    def publish_sample(
        self, event_type: type[Event], ticket_id: str, customer_id: str, event_id: str, **detail: Any
    ) -> None:
        """Put the sample of ``event_type`` about this ticket and customer on the bus."""
        sample = load_event(EVENTS / f"{event_type.detail_type}.json")
        overrides = {
            "event_id": event_id,
            "correlation_id": ticket_id,
            "ticket_id": ticket_id,
            "customer_id": customer_id,
            **detail,
        }
        event_type.from_detail({**sample["detail"], **overrides})
        put_bus_event(self.stack.clients.events, self.stack.physical_id("EventBus"), sample, overrides)

    def cases(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's cases as the CRM answers (none if it does not know the customer)."""
        response = urllib3.request(
            "GET", f"{self.crm_url}/customers/{customer_id}/cases", headers={"x-api-key": self.api_key}
        )
        if response.status == 404:
            return []
        assert response.status == 200, response.status
        cases: list[dict[str, Any]] = json.loads(response.data)["cases"]
        return cases

    def updates(
        self,
        ticket_id: str,
        expected: int = 1,
        timeout: float = SETTLE_TIMEOUT_SECONDS,
        about_events: tuple[str, ...] | None = None,
    ) -> list[CrmRecordUpdated]:
        """The CrmRecordUpdated events of the ticket seen on the bus (only those about ``about_events`` if given).

        The whole stack runs: the drafting worker also drafts a reply to a published analysis, and its
        ResponseDrafted is merged too; a test that counts updates names the events it published.
        """

        def about(message: Any) -> bool:
            body = message.json
            detail = (body.get("detail") or {}) if isinstance(body, dict) else {}
            if about_events is not None and detail.get("about_event_id") not in about_events:
                return False
            return detail.get("ticket_id") == ticket_id

        messages = take_messages(
            self.stack.clients.sqs, self.updated_queue_url, about, expected=expected, timeout=timeout
        )
        return [CrmRecordUpdated.model_validate(message.json["detail"]) for message in messages]

    def in_flight(self) -> None:
        """Wait until the worker holds a message of the CRM update queue."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while queue_depth(self.stack.clients.sqs, self.stack.physical_id("CrmUpdateQueue"))[1] == 0:
            assert time.monotonic() < deadline, "the CRM update worker took no message"
            time.sleep(0.1)

    def drained(self) -> None:
        """Wait until the CRM update queue holds nothing visible or in flight."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while queue_depth(self.stack.clients.sqs, self.stack.physical_id("CrmUpdateQueue")) != (0, 0):
            assert time.monotonic() < deadline, "the CRM update queue did not drain"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def harness(local_stack: EmulatedStack) -> Iterator[Harness]:
    """A rule and queue that tap CrmRecordUpdated; the mock CRM's URL and key."""
    sqs, events, bus = local_stack.clients.sqs, local_stack.clients.events, local_stack.physical_id("EventBus")
    name = f"it-crm-updated-{uuid.uuid4().hex[:6]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": ["CrmRecordUpdated"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    secret = local_stack.clients.client("secretsmanager").get_secret_value(
        SecretId=local_stack.physical_id("MockCrmApiKeySecret")
    )
    try:
        yield Harness(local_stack, queue_url, local_stack.apis["MockCrmApi"].url, secret["SecretString"])
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["tap"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=queue_url)


def test_an_analysed_ticket_delivered_twice_yields_one_case_and_one_update(harness: Harness, unique_id: str) -> None:
    # Given an analysed ticket of a customer the CRM does not know yet
    ticket_id, customer_id, event_id = f"T-{unique_id}", f"C-{unique_id}", f"analyzed-{unique_id}"
    # When the bus delivers it twice
    harness.publish(ticket_id, customer_id, event_id)
    harness.publish(ticket_id, customer_id, event_id)
    # Then one CrmRecordUpdated names the new case at version 1, about that event
    (updated,) = harness.updates(ticket_id, expected=2, timeout=10, about_events=(event_id,))
    assert (updated.customer_id, updated.version, updated.about_event_id) == (customer_id, 1, event_id)
    assert "intent" in updated.fields_changed
    # And the CRM holds exactly one case for the ticket, with the analysis merged once
    harness.drained()
    (case,) = harness.cases(customer_id)
    assert case["case_id"] == updated.crm_record_id
    assert sum(event_id in note for note in case["notes"]) == 1
    assert (case["ticket_id"], case["intent"], case["priority"]) == (ticket_id, "payment_issue", "high")


def test_the_draft_and_the_escalation_outcome_join_the_tickets_one_case(harness: Harness, unique_id: str) -> None:
    # Given a ticket merged into the CRM
    ticket_id, customer_id = f"T-{unique_id}", f"C-{unique_id}"
    drafted_id, resolved_id = f"drafted-{unique_id}", f"resolved-{unique_id}"
    harness.publish(ticket_id, customer_id, f"analyzed-{unique_id}")
    harness.updates(ticket_id, about_events=(f"analyzed-{unique_id}",))
    # When a draft for approval arrives twice, then the approved outcome
    for _ in range(2):
        harness.publish_sample(ResponseDrafted, ticket_id, customer_id, drafted_id, for_escalation=True)
    harness.publish_sample(EscalationResolved, ticket_id, customer_id, resolved_id, edited=True)
    # Then one CrmRecordUpdated per distinct event, about each
    updates = harness.updates(ticket_id, expected=3, timeout=10, about_events=(drafted_id, resolved_id))
    assert sorted(u.about_event_id or "" for u in updates) == [drafted_id, resolved_id]
    # And the one case holds the draft and the decision in a note each, resolved
    harness.drained()
    (case,) = harness.cases(customer_id)
    assert case["status"] == "resolved" and case["escalated"]
    drafted_notes = [n for n in case["notes"] if drafted_id in n]
    assert len(drafted_notes) == 1 and "grounded" in drafted_notes[0] and "refunds.md" in drafted_notes[0]
    assert [n for n in case["notes"] if resolved_id in n and "escalation approved with edits" in n]


def test_a_crm_outage_of_a_few_seconds_is_recovered(harness: Harness, unique_id: str) -> None:
    # Given the CRM's server frozen (connections accepted, no answers: every call times out)
    ticket_id, customer_id = f"T-{unique_id}", f"C-{unique_id}"
    server = harness.stack.apis["MockCrmApi"]
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        # When a ticket is analysed during the outage
        harness.publish(ticket_id, customer_id, f"analyzed-{unique_id}")
        # (held by the worker, its CRM call hanging) for a few seconds
        harness.in_flight()
        time.sleep(OUTAGE_SECONDS)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    # Then once the CRM answers again the case is there, and the update was announced once
    (updated,) = harness.updates(ticket_id, about_events=(f"analyzed-{unique_id}",))
    harness.drained()
    (case,) = harness.cases(customer_id)
    assert case["case_id"] == updated.crm_record_id
    assert sum(f"analyzed-{unique_id}" in note for note in case["notes"]) == 1
    dlq = harness.stack.physical_id("CrmUpdateDeadLetterQueue")
    assert peek_messages(harness.stack.clients.sqs, dlq, carries_event(f"analyzed-{unique_id}")) == []


def test_a_ticket_the_crm_refuses_ends_in_the_dead_letter_queue(harness: Harness, unique_id: str) -> None:
    # Given a ticket id the CRM's API does not accept (longer than its 64-character ids)
    ticket_id, event_id = f"T-{unique_id}-" + "x" * 70, f"refused-{unique_id}"
    # When it is analysed
    harness.publish(ticket_id, f"C-{unique_id}", event_id)
    # Then after the queue's receives it waits in the DLQ, and nothing was announced
    dlq = harness.stack.physical_id("CrmUpdateDeadLetterQueue")
    (dead,) = take_messages(harness.stack.clients.sqs, dlq, carries_event(event_id), timeout=SETTLE_TIMEOUT_SECONDS)
    assert dead.receive_count >= 1
    assert harness.updates(ticket_id, timeout=1) == []
