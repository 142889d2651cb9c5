"""The queries worker's handler on fakes: each query answered once per tenant and id, a bad body logged by field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.queries.test_queries_logic import LIMITS, FakeModel, FakeStatuses
from tests.unit.runtime.test_worker import sqs_event
from workers.queries.handler import lambda_handler
from workers.queries.wiring import QUERY_READER, QueriesSettings, build_app
from workers.shared.bedrock import ModelThrottled
from workers.shared.budgets import InMemoryBudgetStore, TokenBudget
from workers.shared.runtime.once import WorkerMisconfigured
from workers.shared.runtime.worker import SqsWorker, sqs_worker_reading

SETTINGS = QueriesSettings(
    event_bus_name="bus", idempotency_table_name="idem", queries_table_name="q", budgets_table_name="b"
)
PRIVATE_QUESTION = "Is jane.doe@example.com on the refund list?"


class Queries:
    """The worker's handler over a fake model, the in-memory budget, a status list and idempotency store."""

    def __init__(self, model: FakeModel | None = None) -> None:
        self.model = model or FakeModel()
        self.budget = TokenBudget(InMemoryBudgetStore())
        self.statuses = FakeStatuses()
        self.idempotency = InMemoryIdempotencyStore()
        self.handler: SqsWorker[Any] = sqs_worker_reading(
            QUERY_READER,
            lambda: build_app(
                SETTINGS, model=self.model, budget=self.budget, store=self.statuses, persistence=self.idempotency
            ),
            service="queries",
        )

    def deliver(self, *bodies: str) -> dict[str, Any]:
        return dict(self.handler(sqs_event(*bodies), FakeLambdaContext()))


def query(query_id: str = "q-1", **overrides: Any) -> str:
    """A QueriesQueue body as the API enqueues it."""
    fields: dict[str, Any] = {"query_id": query_id, "tenant_id": "acme", "question": "What is an SLA?"}
    fields |= {"daily_token_limit": LIMITS.daily, "monthly_token_limit": LIMITS.monthly} | overrides
    return json.dumps(fields)


def test_a_redelivered_query_is_answered_and_charged_once() -> None:
    # Given a query that SQS delivers twice
    queries = Queries()
    # When both deliveries are handled
    first, second = queries.deliver(query()), queries.deliver(query())
    # Then neither fails, the model answered once, and 42 tokens were charged once
    assert first == second == {"batchItemFailures": []}
    assert queries.statuses.transitions == [("running", None), ("done", None)]
    assert queries.budget.remaining("acme", LIMITS).daily == LIMITS.daily - 42


def test_the_same_query_id_of_another_tenant_is_its_own_query() -> None:
    # Given two tenants whose queries share an id, When both are delivered
    queries = Queries()
    queries.deliver(query(), query(tenant_id="globex"))
    # Then both were answered
    assert [status for status, _ in queries.statuses.transitions].count("done") == 2


def test_a_throttled_query_fails_its_record_and_is_answered_on_redelivery() -> None:
    # Given a model that throttles once
    queries = Queries(FakeModel(ModelThrottled("slow down")))
    # When delivered, Then the record fails (SQS redelivers it) and the query is queued again
    assert queries.deliver(query()) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert queries.statuses.transitions[-1] == ("queued", None)
    # When the model recovers and SQS redelivers, Then it is answered: the failure was not stored as done
    queries.model.error = None
    assert queries.deliver(query()) == {"batchItemFailures": []}
    assert queries.statuses.transitions[-1] == ("done", None)


def test_a_body_that_is_not_a_query_fails_alone_and_is_logged_by_field_without_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a batch of a query missing its limits (with an address in its question) and a good one
    queries = Queries()
    bad = json.dumps({"query_id": "q-9", "tenant_id": "acme", "question": PRIVATE_QUESTION})
    # When handled
    response = queries.deliver(bad, query())
    # Then only the bad record fails, and the log names the model and the fields, never the question
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    (failure,) = [vars(r) for r in caplog.records if r.getMessage().startswith("record failed")]
    assert failure["model"] == "QueryMessage"
    assert failure["invalid_fields"] == ["daily_token_limit: missing", "monthly_token_limit: missing"]
    assert not [r for r in caplog.records if "jane.doe" in repr(vars(r)) + r.getMessage()]


def test_the_reader_gives_the_typed_query_correlated_by_its_id() -> None:
    # Given the worker's reader, When a body is read
    delivery = QUERY_READER.read(query("q-7", model_route="fast"))
    # Then the logic gets the typed query, and the query id is the correlation id of its log lines
    assert (delivery.message.query_id, delivery.message.model_route) == ("q-7", "fast")
    assert delivery.correlation_id == "q-7"


def test_the_deployed_handler_names_a_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the template's handler with no queries table in the environment
    monkeypatch.delenv("QUERIES_TABLE_NAME", raising=False)
    # When a batch arrives, Then the failure names the variable
    with pytest.raises(WorkerMisconfigured, match="queries_table_name"):
        lambda_handler(sqs_event(query()), FakeLambdaContext())
