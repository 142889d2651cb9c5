"""The queries worker's rule: one queued question → running → the model's answer (done) or a reason (failed).

The budget is reserved before the call and settled with the actual usage after, as on every model route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from workers.shared.bedrock import ModelThrottled, ModelTimedOut, ModelUnavailable, Result
from workers.shared.budgets import BudgetExhausted, BudgetLimits, TokenBudget

logger = Logger(child=True)

QUERY_TASK = "chat"
SYSTEM_PROMPT = "You are supportflow's assistant. Answer the question briefly and precisely."
# Worth another delivery: SQS redelivers after the visibility timeout, the DLQ catches the rest.
RETRYABLE = (ModelThrottled, ModelTimedOut, ModelUnavailable)
_CHARS_PER_TOKEN = 3.0


class QueryMessage(BaseModel):
    """What POST /queries puts on QueriesQueue."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    query_id: str = Field(min_length=1, max_length=160)
    tenant_id: str = Field(min_length=1, max_length=64)
    question: str = Field(min_length=1, max_length=8_000)
    model_route: str | None = None
    priority: str = "normal"
    daily_token_limit: int = Field(ge=0)
    monthly_token_limit: int = Field(ge=0)


@dataclass(frozen=True)
class Answer:
    """A done query's result."""

    text: str
    model_id: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


class QueryModel(Protocol):
    """The part of the shared Bedrock client the worker uses."""

    def converse(
        self,
        task: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        system: str | None = None,
        inference: Mapping[str, Any] | None = None,
    ) -> Result[str]:
        """One Converse call on the task's route."""


class QueryStatusStore(Protocol):
    """The queries status table, as the worker writes it."""

    def mark(self, tenant_id: str, query_id: str, status: str, error: str | None = None) -> None:
        """Set queued / running / failed (with a reason)."""

    def done(self, tenant_id: str, query_id: str, answer: Answer) -> None:
        """Set done with the result, usage and cost."""


@dataclass
class QueryAnswerer:
    """Answers one query at a time over the Bedrock client, the budget and the status store."""

    model: QueryModel
    budget: TokenBudget
    store: QueryStatusStore
    max_output_tokens: int = 1_024

    def answer(self, message: QueryMessage) -> None:
        """Run one query; a retryable model failure re-queues it and raises so SQS delivers it again."""
        self.store.mark(message.tenant_id, message.query_id, "running")
        limits = BudgetLimits(daily=message.daily_token_limit, monthly=message.monthly_token_limit)
        estimate = int((len(SYSTEM_PROMPT) + len(message.question)) / _CHARS_PER_TOKEN) + self.max_output_tokens
        try:
            reservation = self.budget.reserve(message.tenant_id, estimate, limits)
        except BudgetExhausted as spent:
            self.store.mark(message.tenant_id, message.query_id, "failed", f"budget_exhausted: {spent}")
            return
        try:
            result = self.model.converse(
                message.model_route or QUERY_TASK,
                [{"role": "user", "content": message.question}],
                system=SYSTEM_PROMPT,
                inference={"maxTokens": self.max_output_tokens},
            )
        except RETRYABLE:
            self.budget.release(reservation)
            self.store.mark(message.tenant_id, message.query_id, "queued")
            raise
        except Exception as error:
            self.budget.release(reservation)
            logger.warning("query failed", extra={"query_id": message.query_id, "error": type(error).__name__})
            self.store.mark(message.tenant_id, message.query_id, "failed", f"model_error: {type(error).__name__}")
            return
        self.budget.settle(reservation, result.usage.input_tokens + result.usage.output_tokens)
        self.store.done(
            message.tenant_id,
            message.query_id,
            Answer(
                result.text, result.model_id, result.usage.input_tokens, result.usage.output_tokens, result.cost_usd
            ),
        )
