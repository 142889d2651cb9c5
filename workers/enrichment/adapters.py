"""AWS adapters of the enrichment worker's ports: DynamoDB, Bedrock (batch and on demand), S3, Step Functions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from workers.enrichment.models import CatalogItem, Enrichment, JobState, PendingRun
from workers.enrichment.ports import BatchRejected, Enriched, ItemNotFound, OutputMissing, RunNotFound, TaskGone
from workers.enrichment.records import SYSTEM, TOOL_NAME, item_prompt
from workers.shared.aws import build_client
from workers.shared.bedrock import BedrockClient

JOB_ARN_INDEX = "job-arn"
_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
_REJECTED = frozenset({"ValidationException", "AccessDeniedException", "ServiceQuotaExceededException"})
_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserialize(value) for key, value in item.items()}


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://bucket/key`` URI."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError("not an s3://bucket/key URI")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


class DynamoCatalog:
    """The catalog table: one item per ``item_id``, with ``content_hash`` and ``enriched_hash``."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or build_client("dynamodb")

    def needing_enrichment(self, limit: int) -> list[CatalogItem]:
        """Scan for items never enriched or changed since (the nightly run reads the whole table once)."""
        found: list[CatalogItem] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "attribute_not_exists(enriched_hash) OR enriched_hash <> content_hash",
        }
        while True:
            page = self._client.scan(**kwargs)
            found.extend(CatalogItem.model_validate(_plain(row)) for row in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(found, key=lambda item: item.item_id)[:limit]

    def get(self, item_id: str) -> CatalogItem:
        """One item; ``ItemNotFound``."""
        row = self._client.get_item(TableName=self._table, Key={"item_id": {"S": item_id}}, ConsistentRead=True)
        if "Item" not in row:
            raise ItemNotFound(item_id)
        return CatalogItem.model_validate(_plain(row["Item"]))

    def write_enrichment(self, item_id: str, content_hash: str, enrichment: Enrichment, run_id: str) -> bool:
        """Store the enrichment only if the item's content is still the one enriched."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"item_id": {"S": item_id}},
                UpdateExpression="SET enrichment = :e, enriched_hash = :h, enriched_by = :r",
                ConditionExpression="content_hash = :h",
                ExpressionAttributeValues={
                    ":e": _serialize(enrichment.model_dump()),
                    ":h": {"S": content_hash},
                    ":r": {"S": run_id},
                },
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_items(self, items: Sequence[CatalogItem]) -> int:
        """Insert or update content; an item whose content is unchanged is left alone (and keeps its enrichment)."""
        changed = 0
        for item in items:
            hashed = item.hashed()
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={"item_id": {"S": hashed.item_id}},
                    UpdateExpression="SET kind = :k, category = :c, title = :t, #text = :x, content_hash = :h",
                    ConditionExpression="attribute_not_exists(content_hash) OR content_hash <> :h",
                    ExpressionAttributeNames={"#text": "text"},
                    ExpressionAttributeValues={
                        ":k": {"S": hashed.kind},
                        ":c": {"S": hashed.category},
                        ":t": {"S": hashed.title},
                        ":x": {"S": hashed.text},
                        ":h": {"S": hashed.content_hash},
                    },
                )
                changed += 1
            except ClientError as error:
                if _code(error) != "ConditionalCheckFailedException":
                    raise
        return changed


class DynamoRunStore:
    """Pending runs by ``run_id``, with a ``job_arn`` index for the completion event."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or build_client("dynamodb")

    def put(self, run: PendingRun) -> None:
        """Store (or replace) a run (``job_arn`` only once known: an index key cannot be empty)."""
        row = {key: value for key, value in run.model_dump().items() if value != "" or key != "job_arn"}
        self._client.put_item(TableName=self._table, Item={k: _serialize(v) for k, v in row.items()})

    def get(self, run_id: str) -> PendingRun:
        """A run by id; ``RunNotFound``."""
        row = self._client.get_item(TableName=self._table, Key={"run_id": {"S": run_id}}, ConsistentRead=True)
        if "Item" not in row:
            raise RunNotFound(run_id)
        return PendingRun.model_validate(_plain(row["Item"]))

    def by_job(self, job_arn: str) -> PendingRun:
        """The run waiting on ``job_arn``; ``RunNotFound``."""
        page = self._client.query(
            TableName=self._table,
            IndexName=JOB_ARN_INDEX,
            KeyConditionExpression="job_arn = :a",
            ExpressionAttributeValues={":a": {"S": job_arn}},
        )
        rows = page.get("Items", [])
        if not rows:
            raise RunNotFound(job_arn)
        return self.get(str(_plain(rows[0])["run_id"]))

    def set_status(self, run_id: str, status: str, message: str = "") -> None:
        """Record the job's last known status and message."""
        self._client.update_item(
            TableName=self._table,
            Key={"run_id": {"S": run_id}},
            UpdateExpression="SET #s = :s, message = :m",
            ConditionExpression="attribute_exists(run_id)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}, ":m": {"S": message}},
        )


class BedrockBatchInference:
    """CreateModelInvocationJob / GetModelInvocationJob for one model, under the batch service role."""

    def __init__(self, model_id: str, role_arn: str, timeout_hours: int = 24, client: Any = None) -> None:
        self._model_id = model_id
        self._role_arn = role_arn
        self._timeout_hours = timeout_hours
        self._client = client or build_client("bedrock")

    def submit(self, job_name: str, input_uri: str, output_uri: str, client_token: str) -> str:
        """Start the job; its ARN; ``BatchRejected`` when Bedrock refuses it."""
        try:
            response = self._client.create_model_invocation_job(
                jobName=job_name[:63],
                roleArn=self._role_arn,
                modelId=self._model_id,
                clientRequestToken=client_token,
                inputDataConfig={"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
                outputDataConfig={"s3OutputDataConfig": {"s3Uri": output_uri}},
                timeoutDurationInHours=self._timeout_hours,
            )
        except ClientError as error:
            if _code(error) in _REJECTED:
                raise BatchRejected(str(error.response.get("Error", {}).get("Message", _code(error)))) from None
            raise
        return str(response["jobArn"])

    def state(self, job_arn: str) -> JobState:
        """The job's status and message."""
        job = self._client.get_model_invocation_job(jobIdentifier=job_arn)
        output = job.get("outputDataConfig", {}).get("s3OutputDataConfig", {}).get("s3Uri", "")
        return JobState(job_arn=job_arn, status=job["status"], message=job.get("message", ""), output_uri=output)


class BedrockOnDemandEnricher:
    """One item through the Bedrock client module: a forced tool whose input is the ``Enrichment``."""

    def __init__(self, client: BedrockClient, model_id: str) -> None:
        self._client = client
        self._model_id = model_id

    def enrich(self, item: CatalogItem) -> Enriched:
        """The item's enrichment, usage and on-demand cost."""
        result = self._client.structured(
            "summarization",
            [{"role": "user", "content": item_prompt(item)}],
            Enrichment,
            system=SYSTEM,
            tool_name=TOOL_NAME,
            model_id=self._model_id,
        )
        return Enriched(result.output, result.usage, result.cost_usd)


class S3Objects:
    """S3 as the worker reads and writes it."""

    def __init__(self, client: Any = None) -> None:
        self._client = client or build_client("s3")

    def put_text(self, uri: str, text: str) -> None:
        """Write a UTF-8 object."""
        bucket, key = split_s3_uri(uri)
        self._client.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="application/jsonl")

    def read_text(self, uri: str) -> str:
        """Read a UTF-8 object; ``OutputMissing``."""
        bucket, key = split_s3_uri(uri)
        try:
            return str(self._client.get_object(Bucket=bucket, Key=key)["Body"].read().decode())
        except ClientError as error:
            if _code(error) in {"NoSuchKey", "404", "NoSuchBucket"}:
                raise OutputMissing(uri) from None
            raise


class StepFunctionsCallbacks:
    """SendTaskSuccess / SendTaskFailure."""

    def __init__(self, client: Any = None) -> None:
        self._client = client or build_client("stepfunctions")

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """Resume the task with ``output``."""
        try:
            self._client.send_task_success(taskToken=task_token, output=json.dumps(dict(output)))
        except ClientError as error:
            if _code(error) in _GONE:
                raise TaskGone(_code(error)) from None
            raise

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """Fail the task with ``error`` (matched by name in the state machine) and one line of cause."""
        try:
            self._client.send_task_failure(taskToken=task_token, error=error[:256], cause=cause[:32_768])
        except ClientError as problem:
            if _code(problem) in _GONE:
                raise TaskGone(_code(problem)) from None
            raise
