"""DynamoDB and SQS adapters of the REST API's ports (tickets read-only, chat sessions, queries, the queue)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from workers.api.models import QueryOut, TicketOut, TurnOut, UsageOut
from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

_DESERIALIZER = TypeDeserializer()
# SendMessageBatch takes at most ten entries.
_SQS_BATCH = 10


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(item) for item in value]
    return value


def _item(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_DESERIALIZER.deserialize(value)) for key, value in raw.items()}


def ticket_view(item: dict[str, Any]) -> TicketOut:
    """The public view of a TicketsTable item (the ticket record's facts and derived views)."""
    classification = item.get("classification") or {}
    sentiment = item.get("sentiment") or {}
    draft = item.get("draft") or {}
    escalation = item.get("escalation") or {}
    resolution = item.get("escalation_resolution") or {}
    return TicketOut(
        ticket_id=str(item["ticket_id"]),
        status=str(item.get("status", "pending")),
        priority=item.get("priority"),
        intent=classification.get("intent"),
        category=classification.get("category"),
        classification_confidence=classification.get("confidence"),
        summary=classification.get("summary"),
        sentiment=sentiment.get("label"),
        sentiment_score=sentiment.get("score"),
        key_issues=list(classification.get("key_issues") or []),
        suggested_solution=draft.get("suggested_solution") or None,
        draft=draft.get("draft"),
        needs_escalation=bool(escalation.get("needs_escalation", False)),
        escalation_reasons=list(escalation.get("reasons") or []),
        escalation_decision=resolution.get("decision"),
        updated_at=item.get("updated_at"),
    )


class DynamoDBTicketReader:
    """TicketsTable, keyed ``tenant#ticket`` (so another tenant's ticket is simply absent)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def get(self, tenant_id: str, ticket_id: str) -> TicketOut | None:
        """The ticket view, or None."""
        raw = self._client.get_item(TableName=self._table, Key={"pk": {"S": f"{tenant_id}#{ticket_id}"}}).get("Item")
        return ticket_view(_item(raw)) if raw else None


class DynamoDBSessionStore:
    """ChatSessionsTable (shared with the WebSocket chat): ``session_id``, ``tenant_id``, ``turns``, ``expires_at``."""

    def __init__(self, table_name: str, ttl_seconds: int, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._ttl = ttl_seconds
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def history(self, tenant_id: str, session_id: str) -> list[TurnOut] | None:
        """The tenant's turns, or None (absent, or another tenant's)."""
        raw = self._client.get_item(
            TableName=self._table, Key={"session_id": {"S": session_id}}, ConsistentRead=True
        ).get("Item")
        if not raw or raw.get("tenant_id", {}).get("S") != tenant_id:
            return None
        return [TurnOut(role=t["M"]["role"]["S"], text=t["M"]["text"]["S"]) for t in raw.get("turns", {}).get("L", [])]

    def append(self, tenant_id: str, session_id: str, turns: Sequence[TurnOut]) -> None:
        """Add turns and push the expiry back; never into another tenant's session."""
        values: list[Any] = [{"M": {"role": {"S": t.role}, "text": {"S": t.text}}} for t in turns]
        self._client.update_item(
            TableName=self._table,
            Key={"session_id": {"S": session_id}},
            UpdateExpression="SET turns = list_append(if_not_exists(turns, :empty), :new), "
            "tenant_id = :tenant, expires_at = :expires",
            ConditionExpression="attribute_not_exists(session_id) OR tenant_id = :tenant",
            ExpressionAttributeValues={
                ":empty": {"L": []},
                ":new": {"L": values},
                ":tenant": {"S": tenant_id},
                ":expires": {"N": str(int(time.time()) + self._ttl)},
            },
        )

    def delete(self, tenant_id: str, session_id: str) -> bool:
        """Delete if it is the tenant's."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"session_id": {"S": session_id}},
                ConditionExpression="tenant_id = :tenant",
                ExpressionAttributeValues={":tenant": {"S": tenant_id}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def query_key(tenant_id: str, query_id: str) -> str:
    """The partition key of a query's status item."""
    return f"{tenant_id}#{query_id}"


class DynamoDBQueryStore:
    """QueriesTable: one status item per query, keyed ``tenant#query``, expiring after ``ttl_seconds``."""

    def __init__(self, table_name: str, ttl_seconds: int = 7 * 86_400, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._ttl = ttl_seconds
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def create(self, tenant_id: str, query_id: str) -> None:
        """A queued query."""
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": query_key(tenant_id, query_id)},
                "query_id": {"S": query_id},
                "status": {"S": "queued"},
                "expires_at": {"N": str(int(time.time()) + self._ttl)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, tenant_id: str, query_id: str) -> QueryOut | None:
        """The query's state, or None."""
        raw = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": query_key(tenant_id, query_id)}}, ConsistentRead=True
        ).get("Item")
        if not raw:
            return None
        item = _item(raw)
        usage = (
            UsageOut(
                input_tokens=item.get("input_tokens", 0),
                output_tokens=item.get("output_tokens", 0),
                cost_usd=item.get("cost_usd", 0.0),
            )
            if item["status"] == "done"
            else None
        )
        return QueryOut(
            query_id=item["query_id"],
            status=item["status"],
            result=item.get("result"),
            error=item.get("error"),
            model_id=item.get("model_id"),
            usage=usage,
        )


class SqsQueryQueue:
    """QueriesQueue through SendMessageBatch."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._client: SQSClient = client or build_client("sqs")

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Send in batches of ten; raise if any entry failed."""
        for start in range(0, len(messages), _SQS_BATCH):
            batch = messages[start : start + _SQS_BATCH]
            response = self._client.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(batch)],
            )
            if response.get("Failed"):
                msg = f"{len(response['Failed'])} queries were not queued"
                raise RuntimeError(msg)


class S3UploadSigner:
    """Presigned PUTs into one bucket; the signed headers (type, metadata) must be sent as given."""

    def __init__(self, bucket: str, expires_in_seconds: int = 900, client: S3Client | None = None) -> None:
        self._bucket = bucket
        self._expires = expires_in_seconds
        self._client: S3Client = client or build_client("s3")

    def presign_put(self, key: str, content_type: str, metadata: dict[str, str]) -> tuple[str, dict[str, str], int]:
        """A presigned PutObject URL and the headers it was signed with."""
        url = self._client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self._bucket, "Key": key, "ContentType": content_type, "Metadata": metadata},
            ExpiresIn=self._expires,
        )
        headers = {"Content-Type": content_type, **{f"x-amz-meta-{k}": v for k, v in metadata.items()}}
        return url, headers, self._expires
