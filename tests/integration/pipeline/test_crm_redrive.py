"""A CRM 4xx on the embedded stack: the record dead-letters, the cause is fixed, ``supportflow dlq redrive`` heals it.

The CRM update worker reads its API key from the ``MockCrmApiKeySecret`` secret; the local API Gateway
checks the key of the API's own key resource. A wrong value in the secret makes the CRM answer 403.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import urllib3

from schemas.events import CrmRecordUpdated, TicketAnalyzed
from supportflow.cli import main
from supportflow.local import EmulatedStack
from supportflow.local.observe import ReceivedMessage, load_event, peek_messages, put_bus_event, take_messages

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[3] / "events"
WORKER = "CrmUpdateFunction"
DEAD_LETTER_TIMEOUT_SECONDS = 180.0
SETTLE_TIMEOUT_SECONDS = 180.0


@dataclass(frozen=True)
class Crm:
    """The stack, the secret the worker reads, the tap on CrmRecordUpdated, and the CRM read with the right key."""

    stack: EmulatedStack
    secret_id: str
    right_key: str
    updated_queue_url: str

    def put_key(self, value: str) -> None:
        """Store ``value`` as the CRM API key the worker reads."""
        self.stack.clients.client("secretsmanager").put_secret_value(SecretId=self.secret_id, SecretString=value)

    def cases(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's cases as the CRM answers (none if it does not know the customer)."""
        response = urllib3.request(
            "GET",
            f"{self.stack.apis['MockCrmApi'].url}/customers/{customer_id}/cases",
            headers={"x-api-key": self.right_key},
        )
        if response.status == 404:
            return []
        assert response.status == 200, response.status
        cases: list[dict[str, Any]] = json.loads(response.data)["cases"]
        return cases

    def dead_letters(self, event_id: str) -> list[ReceivedMessage]:
        """The CRM update DLQ's messages carrying this event (left in place)."""

        def carries(message: ReceivedMessage) -> bool:
            body = message.json
            return isinstance(body, dict) and (body.get("detail") or {}).get("event_id") == event_id

        return peek_messages(self.stack.clients.sqs, self.stack.physical_id("CrmUpdateDeadLetterQueue"), carries)

    def updates(self, event_id: str, *, expected: int = 1, timeout: float) -> list[CrmRecordUpdated]:
        """The CrmRecordUpdated events about ``event_id`` seen on the bus (taken off the tap)."""

        def about(message: ReceivedMessage) -> bool:
            body = message.json
            return isinstance(body, dict) and (body.get("detail") or {}).get("about_event_id") == event_id

        messages = take_messages(
            self.stack.clients.sqs, self.updated_queue_url, about, expected=expected, timeout=timeout
        )
        return [CrmRecordUpdated.model_validate(message.json["detail"]) for message in messages]

    def logging_to(self, log_path: Path | None) -> None:
        """Restart the CRM update worker (a cold start: no cached key) with its output in ``log_path``."""
        with self.stack.paused(WORKER):
            for worker in self.stack.workers.values():
                if worker.function_logical_id == WORKER:
                    worker.log_path = log_path


@pytest.fixture
def crm(local_stack: EmulatedStack) -> Iterator[Crm]:
    """A tap on CrmRecordUpdated; the secret put back to the right key and the worker's output restored after."""
    sqs, events, bus = local_stack.clients.sqs, local_stack.clients.events, local_stack.physical_id("EventBus")
    name = f"it-crm-redrive-{uuid.uuid4().hex[:6]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": ["CrmRecordUpdated"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])
    secret_id = local_stack.physical_id("MockCrmApiKeySecret")
    right_key = local_stack.clients.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    harness = Crm(local_stack, secret_id, right_key, queue_url)
    try:
        yield harness
    finally:
        harness.put_key(right_key)
        harness.logging_to(None)
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["tap"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=queue_url)


def test_a_crm_403_dead_letters_and_is_redriven_after_the_key_is_fixed(
    crm: Crm, unique_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = crm.stack
    cli = ["--endpoint-url", stack.endpoint_url, "--stage", stack.stage]
    ticket_id, customer_id, event_id = f"T-{unique_id}", f"C-{unique_id}", f"analyzed-{unique_id}"
    subject = f"private subject {unique_id}"
    wrong_key = f"wrong-{uuid.uuid4().hex}"
    # Given a wrong API key in the secret, and the worker started afresh (logging to a file) so it reads it
    crm.put_key(wrong_key)
    crm.logging_to(tmp_path / "crm-update.log")

    # When a ticket's analysis is published
    sample = load_event(EVENTS / "TicketAnalyzed.json")
    overrides = {
        "event_id": event_id,
        "correlation_id": ticket_id,
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "subject": subject,
    }
    TicketAnalyzed.from_detail({**sample["detail"], **overrides})
    put_bus_event(stack.clients.events, stack.physical_id("EventBus"), sample, overrides)

    # Then after the queue's receives it waits in the CRM update DLQ; no case, nothing announced
    deadline = time.monotonic() + DEAD_LETTER_TIMEOUT_SECONDS
    while not crm.dead_letters(event_id):
        assert time.monotonic() < deadline, "the refused analysis never reached the CRM update DLQ"
        time.sleep(0.5)
    assert crm.cases(customer_id) == []
    assert crm.updates(event_id, timeout=0) == []
    # And the DLQ shows why, from the worker's log: the CRM's refusal by type; the log names the gateway's
    # code and status, and holds neither key nor the ticket's text
    assert main(["dlq", "show", "crm-update-dlq", "--logs", str(tmp_path), *cli]) == 0
    shown = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(shown) if f"event_id={event_id}" in line)
    assert shown[at + 1].strip() == "reason: workers.crm_update.port.CrmRejected"
    log = (tmp_path / "crm-update.log").read_text(encoding="utf-8")
    refusals = [json.loads(line) for line in log.splitlines() if '"crm rejected a request"' in line]
    assert refusals and {(r["status"], r["code"]) for r in refusals} == {(403, "ForbiddenException")}
    assert wrong_key not in log and crm.right_key not in log and subject not in log

    # When the right key is put back (the worker still holds the wrong one, cached) and the DLQ is redriven
    crm.put_key(crm.right_key)
    assert main(["dlq", "redrive", "crm-update-dlq", *cli]) == 0
    assert "moved" in capsys.readouterr().out

    # Then the worker fetches the key again on the 403, the case exists and one CrmRecordUpdated announces it
    (updated,) = crm.updates(event_id, timeout=SETTLE_TIMEOUT_SECONDS)
    assert crm.updates(event_id, timeout=2) == []
    (case,) = crm.cases(customer_id)
    assert (case["case_id"], case["ticket_id"]) == (updated.crm_record_id, ticket_id)
    assert sum(event_id in note for note in case["notes"]) == 1
    assert crm.dead_letters(event_id) == []
