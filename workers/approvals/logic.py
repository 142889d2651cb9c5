"""Turn the state machine's approval task into a waiting request and an ``ApprovalRequested`` for the agents."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import derived_event_id
from schemas.events import ApprovalRequested, TicketAnalyzed
from workers.approvals.ports import ApprovalStore, Stage, WaitingApproval
from workers.shared.publisher import EventPublisher
from workers.shared.runtime.readers import TaskTokenMessage

logger = Logger(child=True)


class TaskDraft(BaseModel):
    """The draft the state machine obtained from the drafting worker."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    text: str | None = None
    grounded: bool = False
    event_id: str | None = None


class ApprovalTask(TaskTokenMessage):
    """``{"taskToken", "stage", "ticket": <TicketAnalyzed detail>, "draft", "timeout_seconds"}``."""

    stage: Stage
    ticket: TicketAnalyzed
    draft: TaskDraft = Field(default_factory=TaskDraft)
    timeout_seconds: int = Field(ge=1)

    @property
    def correlation_id(self) -> str | None:
        """The ticket's correlation id."""
        return self.ticket.correlation_id


def approval_event_id(task_token: str) -> str:
    """The ``ApprovalRequested`` id of one task: a redelivery repeats it, the supervisor stage does not."""
    return derived_event_id(hashlib.sha256(task_token.encode()).hexdigest(), ApprovalRequested.detail_type)


def _now() -> datetime:
    return datetime.now(UTC)


class ApprovalService:
    """Records the waiting request, then tells the agents (never with the token)."""

    def __init__(self, store: ApprovalStore, publisher: EventPublisher, clock: Callable[[], datetime] = _now) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock

    def process(self, task: ApprovalTask) -> ApprovalRequested | None:
        """Store the token and publish the request; None when this token was already decided or resolved."""
        requested_at = self._clock()
        ticket = task.ticket
        waiting = WaitingApproval(
            ticket_id=ticket.ticket_id,
            task_token=task.task_token,
            stage=task.stage,
            priority=ticket.priority,
            draft=task.draft.text,
            grounded=task.draft.grounded,
            requested_at=requested_at,
            expires_at=requested_at + timedelta(seconds=task.timeout_seconds),
            correlation_id=ticket.correlation_id,
            tenant_id=ticket.tenant_id,
            ticket_json=ticket.model_dump_json(),
        )
        if not self._store.record(waiting):
            logger.info("approval task already handled", extra={"stage": task.stage})
            return None
        event = ApprovalRequested(
            event_id=approval_event_id(task.task_token),
            correlation_id=ticket.correlation_id,
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.ticket_id,
            priority=ticket.priority,
            stage=task.stage,
            draft=task.draft.text,
            grounded=task.draft.grounded,
            requested_at=requested_at,
        )
        self._publisher.publish([event])
        logger.info("approval requested", extra={"stage": task.stage, "event_id": event.event_id})
        return event


def item_of(approval: WaitingApproval) -> dict[str, Any]:
    """The approval as plain attribute values (the store's adapters write these)."""
    return {
        "task_token": approval.task_token,
        "stage": approval.stage,
        "priority": approval.priority,
        "draft": approval.draft,
        "grounded": approval.grounded,
        "requested_at": approval.requested_at.isoformat(),
        "expires_at": approval.expires_at.isoformat(),
        "correlation_id": approval.correlation_id,
        "tenant_id": approval.tenant_id,
        "ticket": approval.ticket_json,
    }
