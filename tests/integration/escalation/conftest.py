"""The escalation state machine of statemachines/ driven in the session's local stack (moto executes it).

Besides the deployed one (default timeouts, started by the bus rule), tests create the same definition
with tiny per-priority approval timeouts: a high-priority ticket times out in seconds, a normal one waits.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from supportflow.escalations import Escalations
from supportflow.local import EmulatedStack
from supportflow.local.observe import ReceivedMessage, take_messages

ROOT = Path(__file__).resolve().parents[3]
DEFINITION = ROOT / "statemachines" / "escalation.asl.json"
# Per priority: high times out at once (the timeout path), normal waits for the test's decision.
SHORT_APPROVAL_SECONDS = 2
LONG_APPROVAL_SECONDS = 120
WATCHED = ["EscalationRequested", "ApprovalRequested", "EscalationResolved"]


@dataclass
class EscalationHarness:
    """The test machine, the bus as seen through a watching queue, and the deciding side."""

    stack: EmulatedStack
    machine_arn: str
    bus: str
    escalations: Escalations
    watches: dict[str, tuple[str, str]] = field(default_factory=dict)

    def start(self, detail: dict[str, Any]) -> str:
        """Start an execution for a TicketAnalyzed detail, named after the ticket; returns its ARN."""
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "TicketAnalyzed", "detail": detail}
        started = self.stack.clients.stepfunctions.start_execution(
            stateMachineArn=self.machine_arn, name=f"escalation-{detail['ticket_id']}", input=json.dumps(event)
        )
        return str(started["executionArn"])

    def watch(self, ticket_id: str) -> None:
        """Start watching the escalation's events about ``ticket_id`` on the bus (its own queue and rule)."""
        clients = self.stack.clients
        name = f"escalation-watch-{uuid.uuid4().hex[:8]}"
        queue_url = clients.sqs.create_queue(QueueName=name)["QueueUrl"]
        attributes = clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        pattern = {"detail-type": WATCHED, "detail": {"ticket_id": [ticket_id]}}
        clients.events.put_rule(Name=name, EventBusName=self.bus, EventPattern=json.dumps(pattern))
        clients.events.put_targets(
            Rule=name, EventBusName=self.bus, Targets=[{"Id": "watch", "Arn": attributes["Attributes"]["QueueArn"]}]
        )
        self.watches[ticket_id] = (name, queue_url)

    def unwatch(self, ticket_id: str) -> None:
        """Remove the ticket's watching rule and queue."""
        name, queue_url = self.watches.pop(ticket_id)
        clients = self.stack.clients
        clients.events.remove_targets(Rule=name, EventBusName=self.bus, Ids=["watch"])
        clients.events.delete_rule(Name=name, EventBusName=self.bus)
        clients.sqs.delete_queue(QueueUrl=queue_url)

    def events(
        self, ticket_id: str, detail_type: str, *, expected: int = 1, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Take up to ``expected`` watched bus events of ``detail_type`` about ``ticket_id``; their details."""

        def match(message: ReceivedMessage) -> bool:
            return bool(message.json.get("detail-type") == detail_type)

        _, queue_url = self.watches[ticket_id]
        found = take_messages(self.stack.clients.sqs, queue_url, match, expected=expected, timeout=timeout)
        return [message.json["detail"] for message in found]

    def failures(self, execution_arn: str) -> list[dict[str, Any]]:
        """The failure details in an execution's history (for a test's failure message)."""
        events = self.stack.clients.stepfunctions.get_execution_history(executionArn=execution_arn)["events"]
        return [
            {key: value for key, value in event.items() if key.endswith("EventDetails")}
            for event in events
            if "Failed" in event["type"] or "TimedOut" in event["type"]
        ]

    def waiting_stage(self, ticket_id: str, stage: str, timeout: float = 30.0) -> None:
        """Block until the ticket's request waits at ``stage`` (the approvals worker stored its token)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(row.ticket_id == ticket_id and row.stage == stage for row in self.escalations.waiting()):
                return
            time.sleep(0.3)
        executions = self.stack.clients.stepfunctions.list_executions(stateMachineArn=self.machine_arn)["executions"]
        failures = [self.failures(e["executionArn"]) for e in executions if ticket_id in e["name"]]
        pytest.fail(f"{ticket_id} never waited at stage {stage}: {failures}")

    def status(self, execution_arn: str, timeout: float = 30.0) -> str:
        """The execution's final status."""
        deadline = time.monotonic() + timeout
        status = "RUNNING"
        while time.monotonic() < deadline:
            status = self.stack.clients.stepfunctions.describe_execution(executionArn=execution_arn)["status"]
            if status != "RUNNING":
                return str(status)
            time.sleep(0.3)
        return str(status)


def _substitutions(stack: EmulatedStack) -> dict[str, str]:
    return {
        "EventBusName": stack.physical_id("EventBus"),
        "ApprovalsTableName": stack.physical_id("ApprovalsTable"),
        "DraftRequestQueueUrl": stack.physical_id("DraftRequestQueue"),
        "ApprovalRequestQueueUrl": stack.physical_id("ApprovalRequestQueue"),
        "DraftTimeoutSeconds": "60",
        "HighApprovalTimeoutSeconds": str(SHORT_APPROVAL_SECONDS),
        "NormalApprovalTimeoutSeconds": str(LONG_APPROVAL_SECONDS),
        "LowApprovalTimeoutSeconds": str(LONG_APPROVAL_SECONDS),
    }


@pytest.fixture(scope="module")
def harness(local_stack: EmulatedStack) -> EscalationHarness:
    """The test state machine (the real definition, tiny timeouts) and the deciding side."""
    definition = DEFINITION.read_text(encoding="utf-8")
    for key, value in _substitutions(local_stack).items():
        definition = definition.replace("${" + key + "}", value)
    suffix = uuid.uuid4().hex[:6]
    clients = local_stack.clients
    role_arn = local_stack.attribute("EscalationStateMachineRole", "Arn")
    machine_arn = clients.stepfunctions.create_state_machine(
        name=f"escalation-test-{suffix}", definition=definition, roleArn=role_arn
    )["stateMachineArn"]
    escalations = Escalations(local_stack.physical_id("ApprovalsTable"), clients.dynamodb, clients.stepfunctions)
    return EscalationHarness(local_stack, machine_arn, local_stack.physical_id("EventBus"), escalations)


@pytest.fixture
def ticket(
    harness: EscalationHarness, load_event: Callable[[str], dict[str, Any]], unique_id: str
) -> Iterator[dict[str, Any]]:
    """A TicketAnalyzed detail that needs escalation, normal priority, unique to the test; its events watched."""
    detail: dict[str, Any] = dict(load_event("TicketAnalyzed")["detail"])
    ticket_id = f"T-esc-{unique_id}"
    detail.update(
        ticket_id=ticket_id,
        correlation_id=ticket_id,
        event_id=str(uuid.uuid4()),
        priority="normal",
        needs_escalation=True,
        escalation_reasons=["sentiment very_negative"],
    )
    harness.watch(ticket_id)
    yield detail
    harness.unwatch(ticket_id)
