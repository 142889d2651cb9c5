"""The tickets table port: read an item, write it only if its version is the one read."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from workers.shared.aws import build_client
from workers.ticket_record.record import TicketRecord, record_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class VersionConflict(RuntimeError):
    """Someone wrote the item since it was read: read again, fold again, write again."""


class TicketStore(Protocol):
    """Where ticket items live."""

    def get(self, tenant_id: str, ticket_id: str) -> TicketRecord | None:
        """The item, read consistently, or None."""

    def put(self, record: TicketRecord, expected_version: int | None) -> None:
        """Write the item if it is still at ``expected_version`` (None: absent); else raise ``VersionConflict``."""


class InMemoryTicketStore:
    """The port kept in a dict with DynamoDB's conditional-write semantics: the fake for unit tests."""

    def __init__(self) -> None:
        self.items: dict[str, TicketRecord] = {}
        self.writes = 0

    def get(self, tenant_id: str, ticket_id: str) -> TicketRecord | None:
        """The item or None."""
        return self.items.get(record_key(tenant_id, ticket_id))

    def put(self, record: TicketRecord, expected_version: int | None) -> None:
        """Conditional put on the version."""
        current = self.items.get(record.pk)
        if (current.version if current else None) != expected_version:
            raise VersionConflict(record.pk)
        self.items[record.pk] = record
        self.writes += 1


_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def to_item(record: TicketRecord) -> dict[str, Any]:
    """A record as a DynamoDB item (numbers as Decimal, absent facts left out)."""
    plain = json.loads(record.model_dump_json(exclude_none=True), parse_float=Decimal)
    return {key: _SERIALIZER.serialize(value) for key, value in plain.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(item) for item in value]
    return value


def from_item(item: dict[str, Any]) -> TicketRecord:
    """A DynamoDB item back as a record."""
    return TicketRecord.model_validate({key: _plain(_DESERIALIZER.deserialize(value)) for key, value in item.items()})


class DynamoDBTicketStore:
    """The tickets table in DynamoDB; every write is conditional on the version read."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def get(self, tenant_id: str, ticket_id: str) -> TicketRecord | None:
        """Strongly consistent read: the version compared on write is the latest."""
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": record_key(tenant_id, ticket_id)}}, ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def put(self, record: TicketRecord, expected_version: int | None) -> None:
        """PutItem with ``attribute_not_exists(pk)`` or ``version = :expected``."""
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        try:
            self._client.put_item(TableName=self._table, Item=to_item(record), **condition)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise VersionConflict(record.pk) from error
            raise
