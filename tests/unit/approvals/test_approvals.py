"""The approvals worker: the token stays server-side, the agents are asked without it, redeliveries change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.events import ApprovalRequested
from supportflow.escalations import decision_output
from workers.approvals.logic import ApprovalService, ApprovalTask, approval_event_id
from workers.approvals.store import InMemoryApprovalStore
from workers.shared.publisher import InMemoryPublisher

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def task(load_event: Callable[[str], dict[str, Any]]) -> ApprovalTask:
    ticket = load_event("TicketAnalyzed")["detail"]
    body = {
        "taskToken": "token-agent-1",
        "stage": "agent",
        "ticket": ticket,
        "draft": {"text": "We refunded the duplicate charge.", "grounded": True, "event_id": "d-1"},
        "timeout_seconds": 60,
    }
    return ApprovalTask.model_validate_json(json.dumps(body))


def _service() -> tuple[ApprovalService, InMemoryApprovalStore, InMemoryPublisher]:
    store, publisher = InMemoryApprovalStore(), InMemoryPublisher()
    return ApprovalService(store, publisher, clock=lambda: NOW), store, publisher


def test_a_task_stores_its_token_and_asks_the_agents_without_it(task: ApprovalTask) -> None:
    # Given the approvals service / When the state machine's approval task arrives
    service, store, publisher = _service()
    event = service.process(task)
    # Then the ticket's item waits with the token, and the one event published carries no token
    item = store.items["T-1001"]
    assert (item["task_token"], item["approval_status"], item["stage"]) == ("token-agent-1", "waiting", "agent")
    assert item["expires_at"] == "2026-11-25T09:01:00+00:00"
    assert publisher.published == [event]
    assert isinstance(event, ApprovalRequested)
    assert (event.stage, event.draft, event.grounded) == ("agent", "We refunded the duplicate charge.", True)
    assert "token-agent-1" not in event.model_dump_json()
    assert event.event_id == approval_event_id("token-agent-1")


def test_a_redelivered_task_republishes_the_same_request_while_it_waits(task: ApprovalTask) -> None:
    # Given a task already stored
    service, _, publisher = _service()
    first = service.process(task)
    # When it is delivered again
    second = service.process(task)
    # Then the same request (same event id) is published again, so a lost publish is repaired
    assert first is not None and second is not None
    assert second.event_id == first.event_id
    assert len(publisher.published) == 2


def test_a_task_arriving_after_a_decision_changes_nothing(task: ApprovalTask) -> None:
    # Given a stored request an agent has decided
    service, store, publisher = _service()
    service.process(task)
    store.items["T-1001"]["approval_status"] = "decided"
    # When the same task is redelivered
    result = service.process(task)
    # Then the decision stands and nobody is asked again
    assert result is None
    assert store.items["T-1001"]["approval_status"] == "decided"
    assert len(publisher.published) == 1


def test_the_supervisor_stage_replaces_the_agents_request(task: ApprovalTask) -> None:
    # Given the agents' request timed out (the item still waits with its old token)
    service, store, publisher = _service()
    service.process(task)
    supervisor = task.model_copy(update={"task_token": "token-supervisor-1", "stage": "supervisor"})
    # When the supervisor's task arrives
    event = service.process(supervisor)
    # Then the item waits on the supervisor's token, and a second, distinct request is published
    assert (store.items["T-1001"]["task_token"], store.items["T-1001"]["stage"]) == ("token-supervisor-1", "supervisor")
    assert event is not None and event.event_id != publisher.published[0].event_id


def test_an_ended_escalation_is_not_reopened(task: ApprovalTask) -> None:
    # Given an escalation the state machine resolved (the token removed)
    service, store, _ = _service()
    store.items["T-1001"] = {"approval_status": "resolved"}
    # When a late task arrives / Then nothing is stored or asked
    assert service.process(task) is None
    assert store.items["T-1001"] == {"approval_status": "resolved"}


def test_decision_outputs_say_what_the_state_machine_reads() -> None:
    # Given a draft / When agents approve as is, approve with edits, re-send the same text, or reject
    draft = "We refunded it."
    as_is = decision_output("approve", draft, None, "a", None)
    edited = decision_output("approve", draft, "We refunded it today.\n", "a", "tone")
    same = decision_output("approve", draft, " We refunded it. ", "a", None)
    rejected = decision_output("reject", draft, None, "b", "no")
    # Then only a changed text counts as edited, and a rejection carries no reply
    assert (as_is["decision"], as_is["edited"], as_is["reply"]) == ("approved", False, draft)
    assert (edited["edited"], edited["reply"], edited["comment"]) == (True, "We refunded it today.", "tone")
    assert same["edited"] is False
    assert (rejected["decision"], rejected["reply"], rejected["edited"]) == ("rejected", None, False)
