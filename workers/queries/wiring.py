"""Composition root of the queries worker: settings in; the model, budget, status table and idempotency built once.

A query is read from QueriesQueue as the API enqueued it (``QueryMessage``, not a bus event) and processed once
per tenant and query id: a redelivery after an answer or a failure for good changes nothing and charges nothing.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, DynamoDBPersistenceLayer
from pydantic import Field

from workers.queries.logic import QueryAnswerer, QueryMessage, QueryModel, QueryStatusStore
from workers.queries.store import DynamoDBQueryStatusStore
from workers.shared.aws import build_client
from workers.shared.bedrock import BedrockClient
from workers.shared.budgets import DynamoDBBudgetStore, TokenBudget
from workers.shared.runtime.readers import MessageReader
from workers.shared.runtime.worker import WorkerApp
from workers.shared.settings import IdempotentWorkerSettings

# The status table keys a query by tenant and query id; so does once-only processing.
QUERY_READER = MessageReader(QueryMessage, idempotency_key="[tenant_id, query_id]", correlation_field="query_id")


class QueriesSettings(IdempotentWorkerSettings):
    """The worker's environment, validated at cold start."""

    queries_table_name: str = Field(min_length=1)
    budgets_table_name: str = Field(min_length=1)
    query_max_output_tokens: int = Field(default=1_024, gt=0)


def build_app(
    settings: QueriesSettings | None = None,
    *,
    model: QueryModel | None = None,
    budget: TokenBudget | None = None,
    store: QueryStatusStore | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> WorkerApp[QueryMessage]:
    """Wire the worker from the environment; pass fakes or emulator-bound adapters in tests."""
    settings = settings or QueriesSettings()
    answerer = QueryAnswerer(
        model or BedrockClient(),
        budget or TokenBudget(DynamoDBBudgetStore(settings.budgets_table_name)),
        store or DynamoDBQueryStatusStore(settings.queries_table_name),
        settings.query_max_output_tokens,
    )
    persistence = persistence or DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=build_client("dynamodb")
    )
    return WorkerApp(
        handle=answerer.answer, persistence=persistence, idempotency_ttl_seconds=settings.idempotency_ttl_seconds
    )
