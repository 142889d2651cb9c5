"""The budget counters in DynamoDB (BudgetsTable): one item per tenant per day and per month, ADDed atomically.

A reservation is one TransactWriteItems of two conditional ADDs, so two concurrent calls near the limit
cannot both pass: DynamoDB serialises them and the second one's condition fails.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from workers.shared.aws import build_client
from workers.shared.budgets.ports import BudgetExhausted, BudgetLimits, Periods

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

# Counters outlive their period by a margin, then DynamoDB's TTL removes them.
_DAY_TTL_SECONDS = 3 * 86_400
_MONTH_TTL_SECONDS = 40 * 86_400


def counter_key(tenant_id: str, period: str) -> str:
    """The partition key of one tenant's counter for one day (YYYY-MM-DD) or month (YYYY-MM)."""
    return f"tenant#{tenant_id}#{period}"


class DynamoDBBudgetStore:
    """BudgetsTable: ``pk`` = tenant and period, ``used`` = tokens, ``expires_at`` = TTL."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def used(self, tenant_id: str, periods: Periods) -> tuple[int, int]:
        """Both counters, read consistently (absent = 0)."""
        response = self._client.batch_get_item(
            RequestItems={
                self._table: {
                    "Keys": [
                        {"pk": {"S": counter_key(tenant_id, periods.day)}},
                        {"pk": {"S": counter_key(tenant_id, periods.month)}},
                    ],
                    "ConsistentRead": True,
                }
            }
        )
        values = {
            item["pk"]["S"]: int(item.get("used", {}).get("N", "0"))
            for item in response["Responses"].get(self._table, [])
        }
        return (
            values.get(counter_key(tenant_id, periods.day), 0),
            values.get(counter_key(tenant_id, periods.month), 0),
        )

    def reserve(self, tenant_id: str, tokens: int, periods: Periods, limits: BudgetLimits) -> tuple[int, int]:
        """Both ADDs in one transaction, each conditional on its counter staying within its limit."""
        now = int(time.time())
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": self._conditional_add(
                            tenant_id, periods.day, tokens, limits.daily, now + _DAY_TTL_SECONDS
                        )
                    },
                    {
                        "Update": self._conditional_add(
                            tenant_id, periods.month, tokens, limits.monthly, now + _MONTH_TTL_SECONDS
                        )
                    },
                ]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [str(r.get("Code")) for r in error.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" not in reasons:
                raise
            period = "monthly" if reasons[0] != "ConditionalCheckFailed" else "daily"
            raise BudgetExhausted(tenant_id, period) from error
        return self.used(tenant_id, periods)

    def adjust(self, tenant_id: str, delta: int, periods: Periods) -> tuple[int, int]:
        """ADD ``delta`` to both counters (settling: actual usage minus the reservation)."""
        now = int(time.time())
        for period, ttl in ((periods.day, _DAY_TTL_SECONDS), (periods.month, _MONTH_TTL_SECONDS)):
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": counter_key(tenant_id, period)}},
                UpdateExpression="ADD used :delta SET expires_at = if_not_exists(expires_at, :ttl)",
                ExpressionAttributeValues={":delta": {"N": str(delta)}, ":ttl": {"N": str(now + ttl)}},
            )
        return self.used(tenant_id, periods)

    def _conditional_add(self, tenant_id: str, period: str, tokens: int, limit: int, ttl: int) -> UpdateTypeDef:
        return {
            "TableName": self._table,
            "Key": {"pk": {"S": counter_key(tenant_id, period)}},
            "UpdateExpression": "ADD used :tokens SET expires_at = if_not_exists(expires_at, :ttl)",
            # used + tokens <= limit, written as used <= limit - tokens (no arithmetic in conditions).
            "ConditionExpression": "attribute_not_exists(used) OR used <= :ceiling",
            "ExpressionAttributeValues": {
                ":tokens": {"N": str(tokens)},
                ":ttl": {"N": str(ttl)},
                ":ceiling": {"N": str(limit - tokens)},
            },
        }
