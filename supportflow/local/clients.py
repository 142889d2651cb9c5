"""boto3 clients bound to one endpoint (the emulator or an external one such as LocalStack)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# Emulator calls are local: fail fast instead of botocore's default 60 s read timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


class Clients:
    """Cached, typed boto3 clients for every service the local stack touches."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._untyped: dict[str, Any] = {}
        self._session = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=DUMMY_CREDENTIALS["aws_secret_access_key"],
            region_name=region,
        )

    def client(self, service: str) -> Any:
        """An untyped client for any service, cached (prefer the typed properties)."""
        if service not in self._untyped:
            self._untyped[service] = self._session.client(  # type: ignore[call-overload]
                service, endpoint_url=self.endpoint_url, config=_CONFIG
            )
        return self._untyped[service]

    @cached_property
    def sqs(self) -> SQSClient:
        """SQS client."""
        return self._session.client("sqs", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def sns(self) -> SNSClient:
        """SNS client."""
        return self._session.client("sns", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def events(self) -> EventBridgeClient:
        """EventBridge client."""
        return self._session.client("events", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        """DynamoDB client."""
        return self._session.client("dynamodb", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def iam(self) -> IAMClient:
        """IAM client."""
        return self._session.client("iam", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def lambda_(self) -> LambdaClient:
        """Lambda client."""
        return self._session.client("lambda", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def stepfunctions(self) -> SFNClient:
        """Step Functions client."""
        return self._session.client("stepfunctions", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def s3(self) -> S3Client:
        """S3 client."""
        return self._session.client("s3", endpoint_url=self.endpoint_url, config=_CONFIG)

    @cached_property
    def scheduler(self) -> EventBridgeSchedulerClient:
        """EventBridge Scheduler client."""
        return self._session.client("scheduler", endpoint_url=self.endpoint_url, config=_CONFIG)
