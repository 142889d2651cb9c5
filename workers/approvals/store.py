"""Adapters of the approval store: DynamoDB (the ticket's item in the approvals table) and in memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from workers.approvals.logic import item_of
from workers.approvals.ports import WaitingApproval
from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WAITING = "waiting"
RESOLVED = "resolved"
# A redelivered task (same token) changes nothing, nor does one arriving after the escalation ended.
_UNHANDLED_REQUEST = (
    "(attribute_not_exists(task_token) OR task_token <> :token)"
    " AND (attribute_not_exists(approval_status) OR approval_status <> :resolved)"
)


def attribute(value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB attribute value (strings, booleans, None)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    return {"S": str(value)}


class DynamoDBApprovalStore:
    """The ticket's item in the approvals table (claimed by the state machine) holds the waiting request."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client = client or build_client("dynamodb")

    def record(self, approval: WaitingApproval) -> bool:
        """Conditional update; on a repeated token, True only if that token is still the one waiting."""
        values = {**item_of(approval), "approval_status": WAITING}
        names = {f"#a{index}": name for index, name in enumerate(values)}
        assignments = ", ".join(f"#a{index} = :a{index}" for index in range(len(values)))
        expression_values = {f":a{index}": attribute(value) for index, value in enumerate(values.values())}
        expression_values[":token"] = attribute(approval.task_token)
        expression_values[":resolved"] = attribute(RESOLVED)
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"ticket_id": attribute(approval.ticket_id)},
                UpdateExpression=f"SET {assignments}",
                ConditionExpression=_UNHANDLED_REQUEST,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=expression_values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = self._client.get_item(
                TableName=self._table, Key={"ticket_id": attribute(approval.ticket_id)}, ConsistentRead=True
            ).get("Item", {})
            return bool(
                item.get("task_token", {}).get("S") == approval.task_token
                and item.get("approval_status", {}).get("S") == WAITING
            )
        return True


class InMemoryApprovalStore:
    """The fake of the port, with the same conditions as the table."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def record(self, approval: WaitingApproval) -> bool:
        """Store unless this token was already recorded or the escalation ended."""
        item = self.items.get(approval.ticket_id, {})
        if item.get("task_token") == approval.task_token:
            return bool(item.get("approval_status") == WAITING)
        if item.get("approval_status") == RESOLVED:
            return False
        self.items[approval.ticket_id] = {**item, **item_of(approval), "approval_status": WAITING}
        return True
