"""The offline Bedrock's asynchronous jobs against the embedded emulator: S3 for input/output, the default bus.

Clients are unmodified boto3, pointed at the offline server only by ``AWS_ENDPOINT_URL_BEDROCK`` and
``AWS_ENDPOINT_URL_BEDROCK_DATA_AUTOMATION_RUNTIME``. Every ``aws.bedrock`` event on the default bus is copied
to one queue by a rule; tests take only the events of their own job (unique ids keep them apart).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from supportflow.bedrock_offline.jobs import JobSettings
from supportflow.bedrock_offline.server import OfflineBedrock
from supportflow.local.emulator import MotoEmulator
from supportflow.local.observe import ReceivedMessage, take_messages

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_data_automation_runtime import RuntimeforBedrockDataAutomationClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

REGION = "us-east-1"
PROFILE_ARN = f"arn:aws:bedrock:{REGION}:123456789012:data-automation-profile/us.data-automation-v1"
PROJECT_ARN = f"arn:aws:bedrock:{REGION}:123456789012:data-automation-project/feedback0001"
STANDARD_PROJECT_ARN = f"arn:aws:bedrock:{REGION}:123456789012:data-automation-project/standard0001"
ROLE_ARN = "arn:aws:iam::123456789012:role/BatchInference"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
# Fast enough for tests, still asynchronous: callers must poll or wait for the event.
TEST_JOBS = JobSettings(bda_seconds=0.3, batch_step_seconds=0.1, batch_min_records=5)


def _session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@dataclass(frozen=True)
class Emulator:
    """The embedded emulator's endpoint, a bucket for this module's objects, and the bedrock-event queue."""

    endpoint_url: str
    s3: S3Client
    sqs: SQSClient
    bucket: str
    queue_url: str


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """moto with a bucket and a queue receiving every ``aws.bedrock`` event of the default bus."""
    moto = MotoEmulator.acquire()
    try:
        session = _session()
        s3 = session.client("s3", endpoint_url=moto.endpoint_url)
        sqs = session.client("sqs", endpoint_url=moto.endpoint_url)
        events = session.client("events", endpoint_url=moto.endpoint_url)
        suffix = uuid.uuid4().hex[:8]
        bucket = f"feedback-{suffix}"
        s3.create_bucket(Bucket=bucket)
        queue_url = sqs.create_queue(QueueName=f"bedrock-events-{suffix}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = f"bedrock-jobs-{suffix}"
        events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.bedrock"]}))
        events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": queue_arn}])
        yield Emulator(moto.endpoint_url, s3, sqs, bucket, queue_url)
    finally:
        MotoEmulator.release()


@pytest.fixture
def server(offline_bedrock: OfflineBedrock, emulator: Emulator) -> Iterator[OfflineBedrock]:
    """The session's offline Bedrock, connected to the emulator, with short job timings for this test."""
    saved = JobSettings(**vars(offline_bedrock.jobs))
    offline_bedrock.connect_emulator(emulator.endpoint_url, REGION)
    vars(offline_bedrock.jobs).update(vars(TEST_JOBS))
    try:
        yield offline_bedrock
    finally:
        vars(offline_bedrock.jobs).update(vars(saved))
        offline_bedrock.deliver_job_events()


@pytest.fixture
def bda(server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> RuntimeforBedrockDataAutomationClient:
    """bedrock-data-automation-runtime, found by its AWS_ENDPOINT_URL_<SERVICE> variable only."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_DATA_AUTOMATION_RUNTIME", server.url)
    return _session().client("bedrock-data-automation-runtime")


@pytest.fixture
def bedrock(server: OfflineBedrock, monkeypatch: pytest.MonkeyPatch) -> BedrockClient:
    """The ``bedrock`` control plane, found by AWS_ENDPOINT_URL_BEDROCK only."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", server.url)
    return _session().client("bedrock")


@pytest.fixture
def unique_id() -> str:
    """A short id unique to this test."""
    return uuid.uuid4().hex[:10]


def wait_until(
    read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """Poll ``read`` until ``done`` holds for its answer (the polling fallback every caller needs)."""
    deadline = time.monotonic() + timeout
    answer = read()
    while not done(answer):
        if time.monotonic() > deadline:
            pytest.fail(f"still not done after {timeout}s: {answer}")
        time.sleep(0.1)
        answer = read()
    return answer


def take_events(emulator: Emulator, match: Callable[[dict[str, Any]], bool], expected: int = 1) -> list[dict[str, Any]]:
    """Take this test's bedrock events off the queue (as parsed EventBridge envelopes)."""

    def predicate(message: ReceivedMessage) -> bool:
        body = message.json
        return isinstance(body, dict) and match(body)

    return [m.json for m in take_messages(emulator.sqs, emulator.queue_url, predicate, expected=expected, timeout=10)]


def read_json(s3: S3Client, uri: str) -> Any:
    """An S3 object named by its s3:// URI, parsed as JSON."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
