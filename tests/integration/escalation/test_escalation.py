"""Every escalation path through the real state machine in the emulator, decided as `supportflow approve` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from supportflow.cli import main
from supportflow.escalations import Sent
from supportflow.local.observe import put_bus_event
from tests.integration.escalation.conftest import EscalationHarness

pytestmark = pytest.mark.integration


def _awaiting_agents(harness: EscalationHarness, ticket: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Start an escalation and wait until the agents are asked; the execution and the approval request."""
    execution = harness.start(ticket)
    harness.waiting_stage(ticket["ticket_id"], "agent")
    [request] = harness.events(ticket["ticket_id"], "ApprovalRequested")
    return execution, request


def test_an_approved_draft_is_resolved_with_the_drafted_reply(
    harness: EscalationHarness, ticket: dict[str, Any]
) -> None:
    # Given an escalated ticket whose draft the agents are asked to approve
    execution, request = _awaiting_agents(harness, ticket)
    [requested] = harness.events(ticket["ticket_id"], "EscalationRequested")
    # When an agent approves it as drafted
    sent = harness.escalations.decide(ticket["ticket_id"], "approve", decided_by="agent-7", comment="ok")
    # Then the execution resumes and EscalationResolved carries the draft as the reply
    assert sent is Sent.SENT
    [resolved] = harness.events(ticket["ticket_id"], "EscalationResolved")
    assert resolved["decision"] == "approved"
    assert resolved["edited"] is False
    assert resolved["reply"] == request["draft"]
    assert resolved["reply"]
    assert resolved["decided_by"] == "agent-7"
    assert resolved["supervisor_escalated"] is False
    assert resolved["customer_id"] == ticket["customer_id"]
    assert harness.status(execution) == "SUCCEEDED"
    # And the agents saw the request without any task token
    assert request["stage"] == "agent"
    assert "taskToken" not in json.dumps(request)
    assert "task_token" not in json.dumps(request)
    assert requested["reasons"] == ["sentiment very_negative"]


def test_an_approval_with_edits_sends_the_edited_reply(harness: EscalationHarness, ticket: dict[str, Any]) -> None:
    # Given an escalated ticket waiting for the agents
    _awaiting_agents(harness, ticket)
    # When an agent approves it with an edited reply
    edited = "Hello, we refunded the second charge today; you will see it within 5 business days."
    sent = harness.escalations.decide(ticket["ticket_id"], "approve", edited_reply=edited, decided_by="agent-2")
    # Then EscalationResolved says edited and carries the agent's reply
    assert sent is Sent.SENT
    [resolved] = harness.events(ticket["ticket_id"], "EscalationResolved")
    assert (resolved["decision"], resolved["edited"], resolved["reply"]) == ("approved", True, edited)


def test_a_rejection_resolves_with_no_reply(harness: EscalationHarness, ticket: dict[str, Any]) -> None:
    # Given an escalated ticket (of no known customer: customer_id is optional) waiting for the agents
    del ticket["customer_id"]
    execution, _ = _awaiting_agents(harness, ticket)
    # When an agent rejects the draft
    sent = harness.escalations.decide(ticket["ticket_id"], "reject", decided_by="agent-3", comment="wrong policy")
    # Then the escalation resolves rejected, with nothing to send to the customer
    assert sent is Sent.SENT
    [resolved] = harness.events(ticket["ticket_id"], "EscalationResolved")
    assert (resolved["decision"], resolved["reply"], resolved["comment"]) == ("rejected", None, "wrong policy")
    assert resolved["customer_id"] is None
    assert harness.status(execution) == "SUCCEEDED"


def test_no_decision_goes_to_the_supervisor_once_then_times_out(
    harness: EscalationHarness, ticket: dict[str, Any]
) -> None:
    # Given a high-priority escalation (a two-second approval timeout in the test machine)
    ticket["priority"] = "high"
    execution = harness.start(ticket)
    # When nobody decides
    requests = harness.events(ticket["ticket_id"], "ApprovalRequested", expected=3, timeout=40)
    # Then the agents, then the supervisor are asked, once each, and the escalation ends timed_out
    assert [request["stage"] for request in requests] == ["agent", "supervisor"]
    [resolved] = harness.events(ticket["ticket_id"], "EscalationResolved")
    assert resolved["decision"] == "timed_out"
    assert resolved["supervisor_escalated"] is True
    assert harness.status(execution) == "SUCCEEDED"
    # And nothing waits any more: a late decision sends nothing
    assert harness.escalations.decide(ticket["ticket_id"], "approve", decided_by="late") is Sent.NOT_WAITING


def test_a_drafting_failure_is_caught_and_announced(harness: EscalationHarness, ticket: dict[str, Any]) -> None:
    # Given a ticket the drafting worker cannot take (it breaks the TicketAnalyzed contract: no intent)
    del ticket["intent"]
    # When the escalation asks for its draft
    execution = harness.start(ticket)
    # Then the worker's SendTaskFailure is caught: EscalationResolved failed, with the reason, and the execution fails
    [resolved] = harness.events(ticket["ticket_id"], "EscalationResolved")
    assert resolved["decision"] == "failed"
    assert resolved["reason"] == "TicketInvalid"
    assert harness.status(execution) == "FAILED"
    assert harness.events(ticket["ticket_id"], "ApprovalRequested", timeout=1) == []


def test_a_decision_sent_twice_changes_nothing(harness: EscalationHarness, ticket: dict[str, Any]) -> None:
    # Given an escalation an agent has approved
    _awaiting_agents(harness, ticket)
    assert harness.escalations.decide(ticket["ticket_id"], "approve", decided_by="agent-1") is Sent.SENT
    # When a decision is sent again (the same, and a contrary one)
    again = harness.escalations.decide(ticket["ticket_id"], "approve", decided_by="agent-1")
    contrary = harness.escalations.decide(ticket["ticket_id"], "reject", decided_by="agent-9")
    # Then both say already decided, and there is one resolution: the first decision
    assert (again, contrary) == (Sent.ALREADY_DECIDED, Sent.ALREADY_DECIDED)
    resolutions = harness.events(ticket["ticket_id"], "EscalationResolved", expected=2, timeout=5)
    assert [(r["decision"], r["decided_by"]) for r in resolutions] == [("approved", "agent-1")]


def test_the_bus_rule_starts_one_escalation_per_ticket(harness: EscalationHarness, ticket: dict[str, Any]) -> None:
    # Given the deployed state machine behind the rule on TicketAnalyzed with needs_escalation
    stack = harness.stack
    sample = {"source": "supportflow.crm", "detail-type": "TicketAnalyzed", "detail": ticket}
    # When the analysed ticket is published twice (an upstream retry)
    for _ in range(2):
        put_bus_event(stack.clients.events, stack.physical_id("EventBus"), sample)
    # Then one escalation starts: one EscalationRequested, one approval request waiting for the agents
    harness.waiting_stage(ticket["ticket_id"], "agent", timeout=60)
    requested = harness.events(ticket["ticket_id"], "EscalationRequested", expected=2, timeout=8)
    assert len(requested) == 1
    # And an agent's decision resolves it
    assert harness.escalations.decide(ticket["ticket_id"], "approve", decided_by="agent-4") is Sent.SENT
    [resolved] = harness.events(ticket["ticket_id"], "EscalationResolved")
    assert resolved["decision"] == "approved"


def test_the_cli_lists_the_waiting_request_and_approves_it_with_an_edit_file(
    harness: EscalationHarness, ticket: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an escalation waiting for the agents, and an agent's edited reply in a file
    _awaiting_agents(harness, ticket)
    local = ["--endpoint-url", harness.stack.endpoint_url, "--stage", harness.stack.stage]
    reply = tmp_path / "reply.txt"
    reply.write_text("Hello Dana, the second charge is refunded.\n", encoding="utf-8")
    # When `supportflow escalations` runs, then `supportflow approve` twice
    listed = main(["escalations", *local])
    listing = capsys.readouterr().out
    approve = ["approve", ticket["ticket_id"], "--decision", "approve", "--edit", str(reply), "--by", "dana"]
    first = main([*approve, *local])
    second = main(["approve", ticket["ticket_id"], "--decision", "reject", *local])
    # Then the listing shows the ticket at the agent stage (never its token), the first decision is sent
    # (exit 0) and the second says already decided (exit 3)
    assert listed == 0
    [row] = [line for line in listing.splitlines() if line.startswith(ticket["ticket_id"])]
    assert row.split()[1:3] == ["agent", "normal"]
    assert "token" not in listing.lower()
    assert (first, second) == (0, 3)
    [resolved] = harness.events(ticket["ticket_id"], "EscalationResolved")
    assert (resolved["edited"], resolved["reply"], resolved["decided_by"]) == (
        True,
        "Hello Dana, the second charge is refunded.",
        "dana",
    )
