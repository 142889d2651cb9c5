"""The queries worker: queued → running → done with usage and cost, or failed with a reason; the budget settled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from workers.queries.logic import Answer, QueryAnswerer, QueryMessage
from workers.shared.bedrock import ModelThrottled, Result, Usage
from workers.shared.budgets import BudgetLimits, InMemoryBudgetStore, TokenBudget

LIMITS = BudgetLimits(daily=10_000, monthly=100_000)


class FakeModel:
    """Answers with fixed usage, or raises what it is told to."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def converse(
        self,
        task: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        system: str | None = None,
        inference: Mapping[str, Any] | None = None,
    ) -> Result[str]:
        if self.error is not None:
            raise self.error
        return Result(
            output="An SLA is a service level agreement.",
            text="An SLA is a service level agreement.",
            model_id="m-1",
            requested_model_id="m-1",
            task=task,
            usage=Usage(input_tokens=30, output_tokens=12),
            cost_usd=0.0001,
            latency_ms=5.0,
            attempts=1,
            fallback=False,
            stop_reason="end_turn",
        )


class FakeStatuses:
    """The status table as a list of transitions."""

    def __init__(self) -> None:
        self.transitions: list[tuple[str, str | None]] = []
        self.answer: Answer | None = None

    def mark(self, tenant_id: str, query_id: str, status: str, error: str | None = None) -> None:
        self.transitions.append((status, error))

    def done(self, tenant_id: str, query_id: str, answer: Answer) -> None:
        self.transitions.append(("done", None))
        self.answer = answer


def _message(**overrides: Any) -> QueryMessage:
    fields = {"query_id": "q-1", "tenant_id": "acme", "question": "What is an SLA?"}
    fields |= {"daily_token_limit": LIMITS.daily, "monthly_token_limit": LIMITS.monthly} | overrides
    return QueryMessage(**fields)


def test_a_query_runs_to_done_and_only_its_actual_usage_is_charged() -> None:
    # Given a working model, When a query is answered
    budget, statuses = TokenBudget(InMemoryBudgetStore()), FakeStatuses()
    QueryAnswerer(FakeModel(), budget, statuses).answer(_message())
    # Then running → done with the answer, and 42 tokens spent
    assert statuses.transitions == [("running", None), ("done", None)]
    assert statuses.answer is not None and statuses.answer.output_tokens == 12
    assert budget.remaining("acme", LIMITS).daily == 10_000 - 42


def test_a_query_over_budget_fails_with_the_reason_and_no_call() -> None:
    # Given a tenant whose day cannot cover the reservation
    budget, statuses = TokenBudget(InMemoryBudgetStore()), FakeStatuses()
    QueryAnswerer(FakeModel(RuntimeError("must not be called")), budget, statuses).answer(
        _message(daily_token_limit=10)
    )
    # Then failed, budget_exhausted
    status, error = statuses.transitions[-1]
    assert status == "failed" and error is not None and error.startswith("budget_exhausted")


def test_a_throttled_query_goes_back_to_queued_and_fails_the_record_for_redelivery() -> None:
    # Given a throttling model
    budget, statuses = TokenBudget(InMemoryBudgetStore()), FakeStatuses()
    answerer = QueryAnswerer(FakeModel(ModelThrottled("slow down")), budget, statuses)
    # When answered, Then it raises (SQS redelivers), is queued again, and nothing is charged
    with pytest.raises(ModelThrottled):
        answerer.answer(_message())
    assert statuses.transitions[-1] == ("queued", None)
    assert budget.remaining("acme", LIMITS).daily == 10_000


def test_a_model_error_fails_the_query_with_its_kind_only() -> None:
    # Given a model failing for good, When answered, Then failed with the error's kind, nothing charged
    budget, statuses = TokenBudget(InMemoryBudgetStore()), FakeStatuses()
    QueryAnswerer(FakeModel(ValueError("secret detail")), budget, statuses).answer(_message())
    assert statuses.transitions[-1] == ("failed", "model_error: ValueError")
    assert budget.remaining("acme", LIMITS).daily == 10_000
