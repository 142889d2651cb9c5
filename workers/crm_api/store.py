"""The CRM's storage port, its DynamoDB adapter and an in-memory fake with the same conditional semantics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from workers.crm_api.models import Case, Customer
from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# One table: customers and cases are items keyed by kind and id; a GSI lists a customer's cases.
CUSTOMER_INDEX = "by_customer"


class WriteConflict(Exception):
    """The stored version was not the expected one (or the item already existed / did not exist)."""


class CrmStore(Protocol):
    """Customers and cases, written only under an expected version (None: the item must not exist)."""

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer, or None."""

    def save_customer(self, customer: Customer, expected_version: int | None) -> None:
        """Write the customer if the stored version is ``expected_version``; raise WriteConflict if not."""

    def get_case(self, case_id: str) -> Case | None:
        """The case, or None."""

    def save_case(self, case: Case, expected_version: int | None) -> None:
        """Write the case if the stored version is ``expected_version``; raise WriteConflict if not."""

    def list_cases(self, customer_id: str) -> list[Case]:
        """The customer's cases, oldest first."""


class InMemoryCrmStore:
    """The port kept in dicts, with DynamoDB's condition semantics: the fake for unit tests."""

    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.cases: dict[str, Case] = {}

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer, or None."""
        return self.customers.get(customer_id)

    def save_customer(self, customer: Customer, expected_version: int | None) -> None:
        """Conditional write."""
        _check(self.customers.get(customer.customer_id), expected_version)
        self.customers[customer.customer_id] = customer

    def get_case(self, case_id: str) -> Case | None:
        """The case, or None."""
        return self.cases.get(case_id)

    def save_case(self, case: Case, expected_version: int | None) -> None:
        """Conditional write."""
        _check(self.cases.get(case.case_id), expected_version)
        self.cases[case.case_id] = case

    def list_cases(self, customer_id: str) -> list[Case]:
        """The customer's cases, oldest first."""
        mine = [case for case in self.cases.values() if case.customer_id == customer_id]
        return sorted(mine, key=lambda case: (case.created_at, case.case_id))


def _check(current: Customer | Case | None, expected_version: int | None) -> None:
    stored = current.version if current is not None else None
    if stored != expected_version:
        raise WriteConflict


class DynamoDBCrmStore:
    """The port on one DynamoDB table (pk, sk; GSI ``by_customer`` on gsi1pk, gsi1sk)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: DynamoDBClient = client or build_client("dynamodb")

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer, or None."""
        data = self._get(f"CUSTOMER#{customer_id}")
        return Customer.model_validate_json(data) if data is not None else None

    def save_customer(self, customer: Customer, expected_version: int | None) -> None:
        """Conditional put on the version attribute."""
        self._put(f"CUSTOMER#{customer.customer_id}", customer, expected_version, {})

    def get_case(self, case_id: str) -> Case | None:
        """The case, or None."""
        data = self._get(f"CASE#{case_id}")
        return Case.model_validate_json(data) if data is not None else None

    def save_case(self, case: Case, expected_version: int | None) -> None:
        """Conditional put on the version attribute; the case is indexed under its customer."""
        index = {
            "gsi1pk": {"S": f"CUSTOMER#{case.customer_id}"},
            "gsi1sk": {"S": f"{case.created_at.isoformat()}#{case.case_id}"},
        }
        self._put(f"CASE#{case.case_id}", case, expected_version, index)

    def list_cases(self, customer_id: str) -> list[Case]:
        """The customer's cases through the GSI, oldest first (every page)."""
        paginator = self._client.get_paginator("query")
        cases: list[Case] = []
        for page in paginator.paginate(
            TableName=self._table,
            IndexName=CUSTOMER_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer_id}"}},
        ):
            cases.extend(Case.model_validate_json(item["data"]["S"]) for item in page.get("Items", []))
        return cases

    def _get(self, pk: str) -> str | None:
        item = self._client.get_item(TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")
        return item["data"]["S"] if item else None

    def _put(self, pk: str, record: Customer | Case, expected_version: int | None, extra: dict[str, Any]) -> None:
        item: dict[str, Any] = {
            "pk": {"S": pk},
            "version": {"N": str(record.version)},
            "data": {"S": record.model_dump_json()},
            **extra,
        }
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        try:
            self._client.put_item(TableName=self._table, Item=item, **condition)
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise WriteConflict from error
