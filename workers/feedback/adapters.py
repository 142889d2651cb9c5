"""AWS adapters of the feedback worker's ports: Data Automation runtime, DynamoDB, S3, Step Functions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from workers.feedback.models import FeedbackJob, JobState, PendingJob, split_s3_uri
from workers.feedback.ports import (
    DataAutomationClientError,
    DataAutomationServiceError,
    JobNotFound,
    OutputInvalid,
    TaskGone,
)
from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

# Codes no retry cures: the request or the input is wrong.
_CLIENT_CODES = frozenset({"ValidationException", "AccessDeniedException", "ResourceNotFoundException"})
_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
_MAX_ERROR = 256
_MAX_CAUSE = 32_768


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or _code(error)


class BedrockDataAutomation:
    """InvokeDataAutomationAsync / GetDataAutomationStatus on a project (or blueprints) and profile."""

    def __init__(
        self,
        profile_arn: str,
        project_arn: str | None = None,
        blueprint_arns: tuple[str, ...] = (),
        stage: str = "LIVE",
        client: Any = None,
    ) -> None:
        self._profile_arn = profile_arn
        self._project_arn = project_arn
        self._blueprint_arns = blueprint_arns
        self._stage = stage
        self._client = client or build_client("bedrock-data-automation-runtime")

    def invoke(self, input_uri: str, output_uri: str, client_token: str) -> str:
        """Start the job with EventBridge notification on; the invocation ARN."""
        request: dict[str, Any] = {
            "clientToken": client_token,
            "inputConfiguration": {"s3Uri": input_uri},
            "outputConfiguration": {"s3Uri": output_uri},
            "dataAutomationProfileArn": self._profile_arn,
            "notificationConfiguration": {"eventBridgeConfiguration": {"eventBridgeEnabled": True}},
        }
        if self._project_arn:
            request["dataAutomationConfiguration"] = {
                "dataAutomationProjectArn": self._project_arn,
                "stage": self._stage,
            }
        if self._blueprint_arns:
            request["blueprints"] = [{"blueprintArn": arn, "stage": self._stage} for arn in self._blueprint_arns]
        try:
            return str(self._client.invoke_data_automation_async(**request)["invocationArn"])
        except ClientError as error:
            raise self._translate(error) from None

    def status(self, invocation_arn: str) -> JobState:
        """The job's status and, once it succeeded, the job_metadata.json URI."""
        try:
            answer = self._client.get_data_automation_status(invocationArn=invocation_arn)
        except ClientError as error:
            raise self._translate(error) from None
        return JobState(
            status=answer["status"],
            output_uri=(answer.get("outputConfiguration") or {}).get("s3Uri"),
            error_type=answer.get("errorType"),
            error_message=answer.get("errorMessage"),
        )

    @staticmethod
    def _translate(error: ClientError) -> Exception:
        if _code(error) in _CLIENT_CODES:
            return DataAutomationClientError(_message(error))
        return DataAutomationServiceError(_code(error) or "service error")


class DynamoJobStore:
    """Pending jobs in DynamoDB, one item per input object (``input_uri``)."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client = client or build_client("dynamodb")

    def get(self, input_uri: str) -> PendingJob:
        """The job of ``input_uri``; ``JobNotFound``."""
        item = self._client.get_item(
            TableName=self._table, Key={"input_uri": {"S": input_uri}}, ConsistentRead=True
        ).get("Item")
        if not item:
            raise JobNotFound(input_uri)
        return self._job(item)

    def put(self, job: PendingJob) -> None:
        """Store the job."""
        self._client.put_item(
            TableName=self._table,
            Item={
                "input_uri": {"S": job.input_uri},
                "task_token": {"S": job.task_token},
                "invocation_arn": {"S": job.invocation_arn},
                "attempt": {"N": str(job.attempt)},
                "feedback_id": {"S": job.feedback_id},
                "job_status": {"S": job.status},
            },
        )

    def set_status(self, input_uri: str, status: str, reason: str | None = None) -> None:
        """Record the last status seen and a failure's reason."""
        self._client.update_item(
            TableName=self._table,
            Key={"input_uri": {"S": input_uri}},
            UpdateExpression="SET job_status = :s, failure_reason = :r",
            ExpressionAttributeValues={":s": {"S": status}, ":r": {"S": reason} if reason else {"NULL": True}},
        )

    def list(self, limit: int = 100) -> list[PendingJob]:
        """Up to ``limit`` stored jobs."""
        items = self._client.scan(TableName=self._table, Limit=limit).get("Items", [])
        return [self._job(item) for item in items]

    @staticmethod
    def _job(item: Mapping[str, Any]) -> PendingJob:
        return PendingJob(
            input_uri=item["input_uri"]["S"],
            task_token=item["task_token"]["S"],
            invocation_arn=item.get("invocation_arn", {}).get("S", ""),
            attempt=int(item["attempt"]["N"]),
            feedback_id=item["feedback_id"]["S"],
            status=item.get("job_status", {}).get("S", "InProgress"),
            reason=item.get("failure_reason", {}).get("S"),
        )


class S3Objects:
    """Objects in S3 by ``s3://`` URI."""

    def __init__(self, client: S3Client | None = None) -> None:
        self._client = client or build_client("s3")

    def read_json(self, uri: str) -> Any:
        """The JSON at ``uri``; ``OutputInvalid`` if it is missing or not JSON."""
        bucket, key = split_s3_uri(uri)
        try:
            body = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            if _code(error) in {"NoSuchKey", "404", "NoSuchBucket"}:
                raise OutputInvalid("an output the job names is missing") from None
            raise
        try:
            return json.loads(body)
        except ValueError:
            raise OutputInvalid("an output the job names is not JSON") from None

    def metadata(self, uri: str) -> Mapping[str, str]:
        """The object's user metadata."""
        bucket, key = split_s3_uri(uri)
        return dict(self._client.head_object(Bucket=bucket, Key=key).get("Metadata", {}))

    def put_text(self, uri: str, text: str, metadata: Mapping[str, str]) -> None:
        """Write ``text`` as a UTF-8 text object."""
        bucket, key = split_s3_uri(uri)
        self._client.put_object(
            Bucket=bucket, Key=key, Body=text.encode(), ContentType="text/plain; charset=utf-8", Metadata=dict(metadata)
        )


class StepFunctionsCallbacks:
    """Answers waiting tasks through the Step Functions API."""

    def __init__(self, client: SFNClient | None = None) -> None:
        self._client = client or build_client("stepfunctions")

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess; ``TaskGone`` when the task no longer waits."""
        try:
            self._client.send_task_success(taskToken=task_token, output=json.dumps(output, ensure_ascii=False))
        except ClientError as error:
            self._raise(error)

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """SendTaskFailure; ``TaskGone`` when the task no longer waits."""
        try:
            self._client.send_task_failure(taskToken=task_token, error=error[:_MAX_ERROR], cause=cause[:_MAX_CAUSE])
        except ClientError as failure:
            self._raise(failure)

    @staticmethod
    def _raise(error: ClientError) -> None:
        if _code(error) in _GONE:
            raise TaskGone(_code(error)) from None
        raise error


class StepFunctionsExecutions:
    """Starts the feedback state machine, one execution per name."""

    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self._arn = state_machine_arn
        self._client = client or build_client("stepfunctions")

    def start(self, name: str, job: FeedbackJob) -> bool:
        """Start; False when an execution of that name exists already."""
        try:
            self._client.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps({"feedback": job.model_dump(mode="json")})
            )
        except ClientError as error:
            if _code(error) == "ExecutionAlreadyExists":
                return False
            raise
        return True
