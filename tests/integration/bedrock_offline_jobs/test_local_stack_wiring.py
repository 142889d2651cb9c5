"""The local stack hands its workers the offline Bedrock's job endpoints and the server its emulator."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3

from supportflow.local import EmulatedStack
from tests.integration.bedrock_offline_jobs.conftest import PROFILE_ARN, REGION, wait_until

TEMPLATE = Path(__file__).parent / "templates" / "feedback_bucket.yaml"
JOB_ENDPOINTS = ("AWS_ENDPOINT_URL_BEDROCK", "AWS_ENDPOINT_URL_BEDROCK_DATA_AUTOMATION_RUNTIME")


def test_stack_workers_reach_data_automation_which_reads_the_stacks_s3() -> None:
    # Given a local stack with a bucket and no workers
    stage = f"jobs-{uuid.uuid4().hex[:6]}"
    with EmulatedStack.start(TEMPLATE, stage=stage, workers=False, region=REGION) as stack:
        environment = stack.worker_environment()
        bucket = stack.outputs["FeedbackBucketName"]
        stack.clients.s3.put_object(Bucket=bucket, Key="in/note.txt", Body=b"Customer C-5: the app is great.")

        # When a client configured only by the worker environment starts a Data Automation job
        client = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        ).client("bedrock-data-automation-runtime", endpoint_url=environment[JOB_ENDPOINTS[1]])
        arn = client.invoke_data_automation_async(
            inputConfiguration={"s3Uri": f"s3://{bucket}/in/note.txt"},
            outputConfiguration={"s3Uri": f"s3://{bucket}/out/"},
            dataAutomationProfileArn=PROFILE_ARN,
        )["invocationArn"]
        status = wait_until(
            lambda: dict(client.get_data_automation_status(invocationArn=arn)),
            lambda s: s["status"] not in {"Created", "InProgress"},
        )

        # Then both job endpoints are the offline server, and the job read and wrote the stack's bucket
        assert stack.bedrock_url
        assert {environment[name] for name in JOB_ENDPOINTS} == {stack.bedrock_url}
        assert status["status"] == "Success"
        assert status["outputConfiguration"]["s3Uri"].startswith(f"s3://{bucket}/out/")
