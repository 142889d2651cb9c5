"""Bedrock batch inference, offline: JSONL in the emulator's S3, .jsonl.out + manifest.json.out back, events."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from supportflow.bedrock_offline.batch_records import RECORD_ERROR_MARKER
from tests.integration.bedrock_offline_jobs.conftest import (
    MODEL_ID,
    ROLE_ARN,
    TEST_JOBS,
    Emulator,
    take_events,
    wait_until,
)

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

FINAL = {"Completed", "PartiallyCompleted", "Failed", "Stopped"}
ITEMS = [
    "Wireless headphones with 30 hours of battery and noise cancelling.",
    "A stainless steel water bottle that keeps drinks cold for a day.",
    "Running shoes with a cushioned sole for long distances.",
    "A laptop stand made of aluminium, adjustable in height.",
    "Organic green tea, 50 bags, from Japan.",
]


def _message(text: str) -> dict[str, Any]:
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": [{"type": "text", "text": f"Summarise this product: {text}"}]}],
    }


def _put_jsonl(emulator: Emulator, key: str, records: list[dict[str, Any]]) -> str:
    body = "".join(json.dumps(r) + "\n" for r in records)
    emulator.s3.put_object(Bucket=emulator.bucket, Key=key, Body=body.encode())
    return f"s3://{emulator.bucket}/{key}"


def _create(bedrock: BedrockClient, emulator: Emulator, name: str, input_uri: str, **extra: Any) -> str:
    return bedrock.create_model_invocation_job(
        jobName=name,
        roleArn=ROLE_ARN,
        modelId=MODEL_ID,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": input_uri}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{emulator.bucket}/batch-output/"}},
        **extra,
    )["jobArn"]


def _finished(bedrock: BedrockClient, arn: str) -> dict[str, Any]:
    return wait_until(
        lambda: dict(bedrock.get_model_invocation_job(jobIdentifier=arn)), lambda job: job["status"] in FINAL
    )


def _read_lines(emulator: Emulator, key: str) -> list[dict[str, Any]]:
    body = emulator.s3.get_object(Bucket=emulator.bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_batch_job_answers_each_record_and_reports_the_one_that_failed(
    bedrock: BedrockClient, emulator: Emulator, unique_id: str
) -> None:
    # Given the batch minimum of records, one of which is forced to fail and one of which is malformed
    records = [{"recordId": f"ITEM{i:07d}", "modelInput": _message(text)} for i, text in enumerate(ITEMS)]
    records.append({"recordId": "FORCED00001", "modelInput": _message(f"{RECORD_ERROR_MARKER} a broken item")})
    records.append({"recordId": "MALFORMED01", "modelInput": {"prompt": "not a messages body"}})
    uri = _put_jsonl(emulator, f"batch-input/{unique_id}/catalog.jsonl", records)

    # When the job runs to its end
    arn = _create(bedrock, emulator, f"enrich-{unique_id}", uri, clientRequestToken=f"tok{unique_id}")
    job = _finished(bedrock, arn)

    # Then every record is answered or carries its error, joined on recordId, and the manifest counts them
    job_id = arn.rsplit("/", 1)[-1]
    assert job["status"] == "Completed"
    assert (job["totalRecordCount"], job["successRecordCount"], job["errorRecordCount"]) == (7, 5, 2)
    lines = {line["recordId"]: line for line in _read_lines(emulator, f"batch-output/{job_id}/catalog.jsonl.out")}
    assert set(lines) == {r["recordId"] for r in records}
    answered = lines["ITEM0000000"]
    assert answered["modelInput"] == records[0]["modelInput"]
    assert answered["modelOutput"]["content"][0]["text"]
    assert answered["modelOutput"]["usage"]["output_tokens"] > 0
    assert lines["FORCED00001"]["error"]["errorCode"] == 500
    assert "modelOutput" not in lines["FORCED00001"]
    assert lines["MALFORMED01"]["error"]["errorCode"] == 400
    manifest = json.loads(
        emulator.s3.get_object(Bucket=emulator.bucket, Key=f"batch-output/{job_id}/manifest.json.out")["Body"].read()
    )
    assert manifest["totalRecordCount"] == manifest["processedRecordCount"] == 7
    assert (manifest["successRecordCount"], manifest["errorRecordCount"]) == (5, 2)
    assert manifest["inputTokenCount"] > 0
    assert manifest["outputTokenCount"] == sum(
        line["modelOutput"]["usage"]["output_tokens"] for line in lines.values() if "modelOutput" in line
    )

    # And each state change was announced on the default bus, ending with Completed
    events = take_events(emulator, lambda e: e["detail"].get("batchJobArn") == arn, expected=4)
    statuses = [e["detail"]["status"] for e in events]
    assert statuses == ["Submitted", "Validating", "InProgress", "Completed"]
    assert {e["detail-type"] for e in events} == {"Batch Inference Job State Change"}
    assert events[-1]["detail"]["batchJobName"] == f"enrich-{unique_id}"
    assert events[-1]["resources"] == [arn]

    # And the same client token names the same job
    assert _create(bedrock, emulator, f"enrich-{unique_id}", uri, clientRequestToken=f"tok{unique_id}") == arn


def test_input_below_the_batch_minimum_is_refused(bedrock: BedrockClient, emulator: Emulator, unique_id: str) -> None:
    # Given fewer records than the server's batch minimum
    records = [
        {"recordId": f"ONE{i:08d}", "modelInput": _message(ITEMS[i])} for i in range(TEST_JOBS.batch_min_records - 1)
    ]
    uri = _put_jsonl(emulator, f"batch-input/{unique_id}/small.jsonl", records)

    # When a job is asked for
    with pytest.raises(ClientError) as caught:
        _create(bedrock, emulator, f"small-{unique_id}", uri)

    # Then it is a ValidationException that names the minimum
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert str(TEST_JOBS.batch_min_records) in caught.value.response["Error"]["Message"]


def test_jobs_are_listed_filtered_paged_and_stopped(bedrock: BedrockClient, emulator: Emulator, unique_id: str) -> None:
    # Given two jobs over every .jsonl under one prefix
    records = [{"recordId": f"R{i:010d}", "modelInput": _message(ITEMS[i % len(ITEMS)])} for i in range(40)]
    _put_jsonl(emulator, f"batch-input/{unique_id}/part-1.jsonl", records[:20])
    prefix = _put_jsonl(emulator, f"batch-input/{unique_id}/part-2.jsonl", records[20:]).rsplit("/", 1)[0] + "/"
    first = _create(bedrock, emulator, f"list-{unique_id}-a", prefix)
    second = _create(bedrock, emulator, f"list-{unique_id}-b", prefix)

    # When the second is stopped at once
    bedrock.stop_model_invocation_job(jobIdentifier=second)
    stopped = _finished(bedrock, second)
    done = _finished(bedrock, first)

    # Then it ends Stopped while the other completes both files
    assert stopped["status"] == "Stopped"
    assert done["status"] == "Completed"
    assert done["processedRecordCount"] == 40
    with pytest.raises(ClientError) as caught:
        bedrock.stop_model_invocation_job(jobIdentifier=first)
    assert caught.value.response["Error"]["Code"] == "ValidationException"

    # And the list filters by name and status and pages with nextToken, newest first
    mine = bedrock.list_model_invocation_jobs(nameContains=unique_id)["invocationJobSummaries"]
    assert [j["jobArn"] for j in mine] == [second, first]
    only_stopped = bedrock.list_model_invocation_jobs(nameContains=unique_id, statusEquals="Stopped")
    assert [j["jobArn"] for j in only_stopped["invocationJobSummaries"]] == [second]
    page = bedrock.list_model_invocation_jobs(nameContains=unique_id, maxResults=1, sortOrder="Ascending")
    assert [j["jobArn"] for j in page["invocationJobSummaries"]] == [first]
    rest = bedrock.list_model_invocation_jobs(
        nameContains=unique_id, maxResults=1, nextToken=page["nextToken"], sortOrder="Ascending"
    )
    assert [j["jobArn"] for j in rest["invocationJobSummaries"]] == [second]
    assert "nextToken" not in rest


def test_unknown_job_is_not_found(bedrock: BedrockClient) -> None:
    # When a job that never existed is asked for
    with pytest.raises(ClientError) as caught:
        bedrock.get_model_invocation_job(
            jobIdentifier="arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefabcdef"
        )

    # Then it is ResourceNotFoundException
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
