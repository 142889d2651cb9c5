"""Lambda entry point of the queries worker (QueriesQueue, partial batch failures): glue only."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.queries.logic import QueryAnswerer, QueryMessage
from workers.queries.store import DynamoDBQueryStatusStore
from workers.shared.bedrock import BedrockClient
from workers.shared.budgets import DynamoDBBudgetStore, TokenBudget

logger = Logger()
tracer = Tracer()


class QueriesSettings(BaseSettings):
    """The worker's environment, validated at cold start."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    queries_table_name: str = Field(min_length=1)
    budgets_table_name: str = Field(min_length=1)
    query_max_output_tokens: int = Field(default=1_024, gt=0)


@cache
def answerer() -> QueryAnswerer:
    """Built once per cold start."""
    settings = QueriesSettings()
    return QueryAnswerer(
        BedrockClient(),
        TokenBudget(DynamoDBBudgetStore(settings.budgets_table_name)),
        DynamoDBQueryStatusStore(settings.queries_table_name),
        settings.query_max_output_tokens,
    )


def _record(record: SQSRecord) -> None:
    answerer().answer(QueryMessage.model_validate_json(record.body))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Each record answered; failed ones reported so SQS redelivers only them."""
    return process_partial_response(
        event=event, record_handler=_record, processor=BatchProcessor(EventType.SQS), context=context
    )
