"""The Step Functions path: a draft for an escalation, answered with SendTaskSuccess or SendTaskFailure.

A failure that a retry cannot cure (an invalid ticket, a model that refuses the request or keeps
answering off-schema) is answered at once with ``SendTaskFailure``, so the state machine's Catch sees
it by error name. A transient one (throttling, an unavailable model or knowledge source) is raised:
SQS redelivers the message and the DLQ catches it after the last attempt.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from schemas.envelope import derived_event_id
from schemas.errors import validation_fields
from schemas.events import ResponseDrafted, TicketAnalyzed
from workers.drafting.logic import DraftingChain, response_drafted
from workers.drafting.ports import TaskCallbacks
from workers.shared.bedrock import (
    ModelAccessDenied,
    ModelInputInvalid,
    ModelNotFound,
    StructuredOutputInvalid,
    TokenBudgetExceeded,
)
from workers.shared.knowledge import KnowledgeAccessDenied, KnowledgeQueryInvalid, KnowledgeSourceNotFound
from workers.shared.publisher import EventPublisher
from workers.shared.runtime.readers import TaskTokenMessage

logger = Logger(child=True)


class TicketInvalid(ValueError):
    """The task's ticket breaks the ``TicketAnalyzed`` contract."""


class TaskGone(RuntimeError):
    """Step Functions no longer waits on the token (timed out, or the execution ended)."""


# Errors no redelivery cures: the task is failed at once instead of waiting for the DLQ.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    TicketInvalid,
    ModelAccessDenied,
    ModelInputInvalid,
    ModelNotFound,
    StructuredOutputInvalid,
    TokenBudgetExceeded,
    KnowledgeAccessDenied,
    KnowledgeQueryInvalid,
    KnowledgeSourceNotFound,
)


class DraftTask(TaskTokenMessage):
    """``{"taskToken": ..., "ticket": <TicketAnalyzed detail>}``; the ticket is validated by the logic."""

    ticket: dict[str, Any]

    @property
    def correlation_id(self) -> str | None:
        """The ticket's correlation id, when it has a usable one."""
        value = self.ticket.get("correlation_id")
        return value if isinstance(value, str) and 0 < len(value) <= 128 else None


def task_event_id(task_token: str) -> str:
    """The ``ResponseDrafted`` id of one task: a redelivered message repeats it, a new execution does not."""
    return derived_event_id(hashlib.sha256(task_token.encode()).hexdigest(), ResponseDrafted.detail_type)


def task_output(event: ResponseDrafted) -> dict[str, Any]:
    """What the state machine receives: the draft, its verdict and sources, and the event id."""
    return {
        "event_id": event.event_id,
        "draft": event.draft,
        "grounded": event.grounded,
        "sources": [source.model_dump(mode="json") for source in event.sources],
        "unsupported_claims": event.unsupported_claims,
        "unfilled_placeholders": event.unfilled_placeholders,
        "suggested_solution": event.suggested_solution,
    }


class TaskDraftingService:
    """Drafts for an escalation (``for_escalation``), publishes, and answers the waiting task."""

    def __init__(self, chain: DraftingChain, publisher: EventPublisher, callbacks: TaskCallbacks) -> None:
        self._chain = chain
        self._publisher = publisher
        self._callbacks = callbacks

    def process(self, task: DraftTask) -> ResponseDrafted | None:
        """Answer the task; returns the published event, or None when the task was failed."""
        try:
            ticket = self._ticket(task)
            event = response_drafted(
                ticket, self._chain.run(ticket), for_escalation=True, event_id=task_event_id(task.task_token)
            )
        except PERMANENT_ERRORS as error:
            self._fail(task, error)
            return None
        self._publisher.publish([event])
        try:
            self._callbacks.succeed(task.task_token, task_output(event))
        except TaskGone:
            # The draft is on the bus; nobody waits for it any more, and no retry would change that.
            logger.warning("task no longer waits; draft published only", extra={"event_id": event.event_id})
        return event

    @staticmethod
    def _ticket(task: DraftTask) -> TicketAnalyzed:
        try:
            return TicketAnalyzed.model_validate(task.ticket)
        except ValidationError as error:
            raise TicketInvalid(f"ticket invalid at: {', '.join(validation_fields(error))}") from None

    def _fail(self, task: DraftTask, error: Exception) -> None:
        name = type(error).__name__
        # The cause names the failure, never the input: a ValidationError-derived one lists fields only.
        cause = str(error) if isinstance(error, TicketInvalid) else f"drafting failed: {name}"
        logger.warning("drafting failed for good; task failed", extra={"error_type": name})
        try:
            self._callbacks.fail(task.task_token, name, cause)
        except TaskGone:
            logger.warning("task no longer waits; failure not delivered", extra={"error_type": name})
