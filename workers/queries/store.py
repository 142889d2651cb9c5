"""QueriesTable as the worker writes it: status transitions, and the answer once done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workers.queries.logic import Answer
from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDBQueryStatusStore:
    """Items keyed ``tenant#query`` (the API created them as queued)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def _set(self, tenant_id: str, query_id: str, values: dict[str, Any]) -> None:
        names = {f"#{key}": key for key in values}
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"{tenant_id}#{query_id}"}},
            UpdateExpression="SET " + ", ".join(f"#{key} = :{key}" for key in values),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":{key}": value for key, value in values.items()},
        )

    def mark(self, tenant_id: str, query_id: str, status: str, error: str | None = None) -> None:
        """Set the status (and the reason of a failure)."""
        values: dict[str, Any] = {"status": {"S": status}, "query_id": {"S": query_id}}
        if error is not None:
            values["error"] = {"S": error}
        self._set(tenant_id, query_id, values)

    def done(self, tenant_id: str, query_id: str, answer: Answer) -> None:
        """Set done with the answer, usage and cost."""
        self._set(
            tenant_id,
            query_id,
            {
                "status": {"S": "done"},
                "query_id": {"S": query_id},
                "result": {"S": answer.text},
                "model_id": {"S": answer.model_id},
                "input_tokens": {"N": str(answer.input_tokens)},
                "output_tokens": {"N": str(answer.output_tokens)},
                "cost_usd": {"N": repr(answer.cost_usd)},
            },
        )
