"""What `supportflow approve` and `supportflow escalations` do: decide a waiting escalation, list those waiting.

A decision is recorded on the ticket's item with a conditional write FIRST (waiting, with the token
just read), and only then sent to Step Functions, so a decision sent twice sends nothing the second
time. The task token is read from the approvals table and never printed.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_stepfunctions import SFNClient

Decision = Literal["approve", "reject"]
WAITING = "waiting"
DECIDED = "decided"
RESOLVED = "resolved"
# Step Functions no longer waits on the token.
_TASK_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class Sent(enum.Enum):
    """What came of a decision; the CLI's exit code is the value."""

    SENT = 0
    ALREADY_DECIDED = 3
    NOT_WAITING = 4
    TOO_LATE = 5


@dataclass(frozen=True)
class Waiting:
    """An escalation that waits for a human: its stage and since when (no token)."""

    ticket_id: str
    stage: str
    priority: str
    requested_at: str
    expires_at: str
    grounded: bool
    draft: str | None


def decision_output(
    decision: Decision, draft: str | None, edited_reply: str | None, decided_by: str, comment: str | None
) -> dict[str, Any]:
    """The SendTaskSuccess output the state machine reads: a rejection is a decision too, not a failure."""
    if decision == "reject":
        return {"decision": "rejected", "edited": False, "reply": None, "decided_by": decided_by, "comment": comment}
    edited = edited_reply is not None and edited_reply.strip() != (draft or "").strip()
    reply = edited_reply.strip() if edited_reply is not None else draft
    return {"decision": "approved", "edited": edited, "reply": reply, "decided_by": decided_by, "comment": comment}


class Escalations:
    """The approvals table and Step Functions, as a human deciding sees them."""

    def __init__(self, table_name: str, dynamodb: DynamoDBClient, stepfunctions: SFNClient) -> None:
        self._table = table_name
        self._dynamodb = dynamodb
        self._stepfunctions = stepfunctions

    def waiting(self) -> list[Waiting]:
        """Every request waiting for a decision, oldest first (a scan: the table holds one item per escalation)."""
        rows: list[Waiting] = []
        paginator = self._dynamodb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._table,
            FilterExpression="approval_status = :waiting",
            ExpressionAttributeValues={":waiting": {"S": WAITING}},
        )
        for page in pages:
            rows.extend(_waiting(item) for item in page.get("Items", []))
        return sorted(rows, key=lambda row: row.requested_at)

    def decide(
        self,
        ticket_id: str,
        decision: Decision,
        *,
        edited_reply: str | None = None,
        decided_by: str,
        comment: str | None = None,
    ) -> Sent:
        """Mark the waiting request decided (conditionally), then resume the execution with the decision."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"ticket_id": {"S": ticket_id}}, ConsistentRead=True
        ).get("Item")
        status = (item or {}).get("approval_status", {}).get("S")
        if item is not None and (status == DECIDED or (status == RESOLVED and "decided_by" in item)):
            return Sent.ALREADY_DECIDED
        if item is None or status != WAITING or "task_token" not in item:
            return Sent.NOT_WAITING
        token = item["task_token"]["S"]
        draft = item.get("draft", {}).get("S")
        output = decision_output(decision, draft, edited_reply, decided_by, comment)
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"ticket_id": {"S": ticket_id}},
                UpdateExpression="SET approval_status = :decided, decided_by = :by, decided_at = :at, decision = :d",
                ConditionExpression="approval_status = :waiting AND task_token = :token",
                ExpressionAttributeValues={
                    ":decided": {"S": DECIDED},
                    ":waiting": {"S": WAITING},
                    ":token": {"S": token},
                    ":by": {"S": decided_by},
                    ":at": {"S": datetime.now(UTC).isoformat()},
                    ":d": {"S": output["decision"]},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return Sent.ALREADY_DECIDED
            raise
        try:
            self._stepfunctions.send_task_success(taskToken=token, output=json.dumps(output, ensure_ascii=False))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _TASK_GONE:
                return Sent.TOO_LATE
            raise
        return Sent.SENT


def _waiting(item: dict[str, Any]) -> Waiting:
    return Waiting(
        ticket_id=item["ticket_id"]["S"],
        stage=item.get("stage", {}).get("S", "?"),
        priority=item.get("priority", {}).get("S", "?"),
        requested_at=item.get("requested_at", {}).get("S", ""),
        expires_at=item.get("expires_at", {}).get("S", ""),
        grounded=bool(item.get("grounded", {}).get("BOOL", False)),
        draft=item.get("draft", {}).get("S"),
    )


def waiting_text(rows: list[Waiting], now: datetime | None = None) -> str:
    """The waiting escalations as a table for humans."""
    if not rows:
        return "nothing waits for a decision"
    now = now or datetime.now(UTC)
    lines = [f"{'TICKET':<24} {'STAGE':<10} {'PRIORITY':<8} {'WAITING':>9}  {'SINCE':<25} TIMES OUT"]
    for row in rows:
        since = datetime.fromisoformat(row.requested_at) if row.requested_at else now
        waited = int((now - since).total_seconds())
        head = f"{row.ticket_id:<24} {row.stage:<10} {row.priority:<8} {waited:>8}s"
        lines.append(f"{head}  {row.requested_at:<25} {row.expires_at}")
    return "\n".join(lines)
