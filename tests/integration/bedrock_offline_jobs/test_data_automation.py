"""Bedrock Data Automation runtime, offline: input from the emulator's S3, the real output layout, the bus."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from fpdf import FPDF

from supportflow.bedrock_offline.server import OfflineBedrock
from tests.integration.bedrock_offline_jobs.conftest import (
    PROFILE_ARN,
    PROJECT_ARN,
    REGION,
    STANDARD_PROJECT_ARN,
    Emulator,
    read_json,
    take_events,
    wait_until,
)

if TYPE_CHECKING:
    from mypy_boto3_bedrock_data_automation_runtime import RuntimeforBedrockDataAutomationClient

FEEDBACK = (
    "Customer id C-42 here. The delivery of order ORD-99812 was three days late and the courier left the "
    "parcel outside in the rain. This is unacceptable, the delivery service has been terrible twice now."
)
FINAL = {"Success", "ClientError", "ServiceError"}


def _pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _start(
    bda: RuntimeforBedrockDataAutomationClient,
    emulator: Emulator,
    key: str,
    *,
    project: str | None = PROJECT_ARN,
    token: str | None = None,
    notify: bool = True,
) -> str:
    request: dict[str, Any] = {
        "inputConfiguration": {"s3Uri": f"s3://{emulator.bucket}/{key}"},
        "outputConfiguration": {"s3Uri": f"s3://{emulator.bucket}/bda-output/"},
        "dataAutomationProfileArn": PROFILE_ARN,
        "notificationConfiguration": {"eventBridgeConfiguration": {"eventBridgeEnabled": notify}},
    }
    if project:
        request["dataAutomationConfiguration"] = {"dataAutomationProjectArn": project, "stage": "LIVE"}
    if token:
        request["clientToken"] = token
    return bda.invoke_data_automation_async(**request)["invocationArn"]


def _finished(bda: RuntimeforBedrockDataAutomationClient, arn: str) -> dict[str, Any]:
    return wait_until(lambda: dict(bda.get_data_automation_status(invocationArn=arn)), lambda s: s["status"] in FINAL)


def _for_input(key: str) -> Any:
    return lambda event: event.get("detail", {}).get("input_s3_object", {}).get("name") == key


def test_text_feedback_is_read_into_standard_and_custom_output(
    bda: RuntimeforBedrockDataAutomationClient, emulator: Emulator, unique_id: str
) -> None:
    # Given a text feedback file in S3
    key = f"feedback/{unique_id}.txt"
    emulator.s3.put_object(Bucket=emulator.bucket, Key=key, Body=FEEDBACK.encode())

    # When a job with the feedback project runs to its end
    arn = _start(bda, emulator, key)
    assert bda.get_data_automation_status(invocationArn=arn)["status"] in {"Created", "InProgress"}
    status = _finished(bda, arn)

    # Then job_metadata.json leads to the standard output (the text, a summary) and the blueprint's fields
    assert status["status"] == "Success"
    metadata_uri = status["outputConfiguration"]["s3Uri"]
    assert metadata_uri == f"s3://{emulator.bucket}/bda-output/{arn.rsplit('/', 1)[-1]}/job_metadata.json"
    metadata = read_json(emulator.s3, metadata_uri)
    assert metadata["semantic_modality"] == "DOCUMENT"
    segment = metadata["output_metadata"][0]["segment_metadata"][0]
    standard = read_json(emulator.s3, segment["standard_output_path"])
    assert standard["document"]["representation"]["text"] == FEEDBACK
    assert standard["document"]["summary"].startswith("Customer id C-42 here.")
    assert standard["pages"][0]["page_index"] == 0
    assert segment["custom_output_status"] == "MATCH"
    fields = read_json(emulator.s3, segment["custom_output_path"])["inference_result"]
    assert fields["customer_id"] == "C-42"
    assert fields["sentiment"] in {"negative", "very_negative"}
    assert "delivery" in fields["topics"]
    assert fields["order_ids"] == ["ORD-99812"]

    # And the completion event is on the default bus, naming the input object and the output location
    [event] = take_events(emulator, _for_input(key))
    assert event["source"] == "aws.bedrock"
    assert event["detail-type"] == "Bedrock Data Automation Job Succeeded"
    assert event["detail"]["job_id"] == arn.rsplit("/", 1)[-1]
    assert event["detail"]["job_status"] == "SUCCESS"
    assert event["detail"]["semantic_modality"] == "Document"
    assert event["detail"]["output_s3_location"] == {
        "s3_bucket": emulator.bucket,
        "name": f"bda-output/{event['detail']['job_id']}",
    }


def test_pdf_pages_are_extracted_and_a_standard_only_project_has_no_custom_output(
    bda: RuntimeforBedrockDataAutomationClient, emulator: Emulator, unique_id: str
) -> None:
    # Given a two-page PDF
    key = f"feedback/{unique_id}.pdf"
    pages = ["Great support from Ana, thank you.", "Customer C-7: the refund arrived quickly."]
    emulator.s3.put_object(Bucket=emulator.bucket, Key=key, Body=_pdf(pages))

    # When a standard-output-only project reads it
    status = _finished(bda, _start(bda, emulator, key, project=STANDARD_PROJECT_ARN, notify=False))

    # Then each page's text is there, and no custom output is announced
    assert status["status"] == "Success"
    segment = read_json(emulator.s3, status["outputConfiguration"]["s3Uri"])["output_metadata"][0]["segment_metadata"][
        0
    ]
    assert "custom_output_path" not in segment
    standard = read_json(emulator.s3, segment["standard_output_path"])
    assert [p["representation"]["text"] for p in standard["pages"]] == pages
    assert standard["metadata"]["number_of_pages"] == 2


def test_transcribe_json_is_read_as_audio(
    bda: RuntimeforBedrockDataAutomationClient, emulator: Emulator, unique_id: str
) -> None:
    # Given an Amazon Transcribe result for a call
    key = f"calls/{unique_id}.json"
    transcript = "Hi, this is customer C-300. Thanks so much, the new plan works perfectly and I love it."
    body = {
        "jobName": unique_id,
        "results": {"transcripts": [{"transcript": transcript}], "items": [{"end_time": "6.5"}]},
    }
    emulator.s3.put_object(Bucket=emulator.bucket, Key=key, Body=json.dumps(body).encode())

    # When it is processed with the feedback project
    status = _finished(bda, _start(bda, emulator, key))

    # Then the standard output is an audio transcript and the blueprint reads the customer and the mood
    metadata = read_json(emulator.s3, status["outputConfiguration"]["s3Uri"])
    assert metadata["semantic_modality"] == "AUDIO"
    segment = metadata["output_metadata"][0]["segment_metadata"][0]
    standard = read_json(emulator.s3, segment["standard_output_path"])
    assert standard["audio"]["transcript"]["representation"]["text"] == transcript
    assert standard["metadata"]["duration_millis"] == 6500
    fields = read_json(emulator.s3, segment["custom_output_path"])["inference_result"]
    assert fields["customer_id"] == "C-300"
    assert fields["sentiment"] == "positive"
    [event] = take_events(emulator, _for_input(key))
    assert event["detail"]["semantic_modality"] == "Audio"


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "unsupported file type"),
        ("blank.pdf", _pdf([""]), "no extractable text"),
    ],
)
def test_unreadable_file_ends_in_client_error_with_its_event(
    bda: RuntimeforBedrockDataAutomationClient, emulator: Emulator, unique_id: str, name: str, body: bytes, reason: str
) -> None:
    # Given a file BDA cannot read
    key = f"feedback/{unique_id}-{name}"
    emulator.s3.put_object(Bucket=emulator.bucket, Key=key, Body=body)

    # When it is processed
    status = _finished(bda, _start(bda, emulator, key))

    # Then the job is a ClientError that says why, and the failure event says the same
    assert status["status"] == "ClientError"
    assert reason in status["errorMessage"]
    assert "outputConfiguration" not in status
    [event] = take_events(emulator, _for_input(key))
    assert event["detail-type"] == "Bedrock Data Automation Job Failed With Client Error"
    assert reason in event["detail"]["error_message"]


def test_client_token_returns_the_same_invocation(
    bda: RuntimeforBedrockDataAutomationClient, emulator: Emulator, unique_id: str
) -> None:
    # Given a feedback file
    key = f"feedback/{unique_id}.md"
    emulator.s3.put_object(Bucket=emulator.bucket, Key=key, Body=b"# Feedback\n\nThe app is fine.")

    # When the same request is sent twice with one client token, and once with another
    first = _start(bda, emulator, key, token=f"tok-{unique_id}", notify=False)
    again = _start(bda, emulator, key, token=f"tok-{unique_id}", notify=False)
    other = _start(bda, emulator, key, token=f"other-{unique_id}", notify=False)

    # Then the retry names the first invocation and the new token starts a new one
    assert again == first
    assert other != first
    assert first.startswith(f"arn:aws:bedrock:{REGION}:123456789012:data-automation-invocation/")


@pytest.mark.parametrize("switch", ["request header", "server rule"])
def test_lost_event_leaves_the_status_pollable(
    bda: RuntimeforBedrockDataAutomationClient,
    server: OfflineBedrock,
    emulator: Emulator,
    unique_id: str,
    switch: str,
) -> None:
    # Given a job whose completion event is lost (per request, or the server's next event)
    key = f"feedback/{unique_id}.txt"
    emulator.s3.put_object(Bucket=emulator.bucket, Key=key, Body=FEEDBACK.encode())
    if switch == "request header":
        bda.meta.events.register(
            "before-send.bedrock-data-automation-runtime.InvokeDataAutomationAsync",
            lambda request, **_: (
                request.headers.__setitem__("x-supportflow-job-events", "off") if key in str(request.body) else None
            ),
        )
    else:
        server.drop_job_events(first=1)

    # When it finishes
    status = _finished(bda, _start(bda, emulator, key))

    # Then polling still sees Success and its output, and no event for it reaches the bus
    assert status["status"] == "Success"
    assert read_json(emulator.s3, status["outputConfiguration"]["s3Uri"])["job_status"] == "PROCESSED"
    assert take_events(emulator, _for_input(key)) == []

    # And the next job's event is delivered again
    after = f"feedback/{unique_id}-after.txt"
    emulator.s3.put_object(Bucket=emulator.bucket, Key=after, Body=FEEDBACK.encode())
    _finished(bda, _start(bda, emulator, after))
    assert len(take_events(emulator, _for_input(after))) == 1


def test_unknown_invocation_is_not_found(bda: RuntimeforBedrockDataAutomationClient) -> None:
    # When the status of an invocation that never ran is asked
    arn = f"arn:aws:bedrock:{REGION}:123456789012:data-automation-invocation/0b9c2a4e-0000-4000-8000-000000000000"
    with pytest.raises(ClientError) as caught:
        bda.get_data_automation_status(invocationArn=arn)

    # Then it is ResourceNotFoundException
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
