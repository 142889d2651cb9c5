"""Feedback on the embedded stack: files in the feedback bucket become FeedbackAnalyzed on the customer's record.

The module boots its own stack (the session's uses the template's 900 s completion timeout; the polling test
needs a short one) with only the feedback and CRM workers. The offline Bedrock runs the Data Automation jobs
on the emulator's S3 and puts their completion events on its default bus.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import urllib3
from fpdf import FPDF

from schemas.events import FeedbackAnalyzed, FeedbackFailed
from supportflow.feedback_cli import Clients, FeedbackResources, find_execution, submit
from supportflow.local import EmulatedStack
from supportflow.local.observe import ReceivedMessage, take_messages

pytestmark = pytest.mark.integration

SETTLE_SECONDS = 60.0
WORKERS = ["FeedbackIntakeFunction", "FeedbackTaskFunction", "FeedbackCompletionFunction", "CrmFeedbackFunction"]
ANGRY = (
    "The delivery of order ORD-99812 was three days late and the courier left the parcel outside in the rain. "
    "This is unacceptable, the worst service I have had. I want a refund now."
)


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF with ``text`` in its text layer (empty text: a page with nothing to extract)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    if text:
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


@dataclass(frozen=True)
class Harness:
    """Upload feedback, watch the bus for its outcome, read the CRM."""

    stack: EmulatedStack
    outcomes_queue_url: str
    crm_url: str
    api_key: str

    @property
    def bucket(self) -> str:
        return self.stack.physical_id("FeedbackBucket")

    @property
    def resources(self) -> FeedbackResources:
        return FeedbackResources(
            self.bucket, self.stack.physical_id("FeedbackJobsTable"), self.stack.physical_id("FeedbackStateMachine")
        )

    @property
    def clients(self) -> Clients:
        c = self.stack.clients
        return Clients(c.s3, c.client("dynamodb"), c.client("stepfunctions"))

    def upload(self, key: str, body: bytes, customer_id: str, feedback_id: str) -> str:
        """Put a file under feedback/ as an uploader would; its s3 URI."""
        metadata = {"customer-id": customer_id, "feedback-id": feedback_id}
        self.stack.clients.s3.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata)
        return f"s3://{self.bucket}/{key}"

    def outcome(self, feedback_id: str, timeout: float = SETTLE_SECONDS) -> FeedbackAnalyzed | FeedbackFailed:
        """The FeedbackAnalyzed or FeedbackFailed of this feedback."""

        def about(message: ReceivedMessage) -> bool:
            body = message.json
            return isinstance(body, dict) and (body.get("detail") or {}).get("feedback_id") == feedback_id

        (message,) = take_messages(self.stack.clients.sqs, self.outcomes_queue_url, about, timeout=timeout)
        event_type = FeedbackAnalyzed if message.json["detail-type"] == "FeedbackAnalyzed" else FeedbackFailed
        return event_type.model_validate(message.json["detail"])

    def cases(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's cases once there are some (or none at the deadline)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            response = urllib3.request(
                "GET", f"{self.crm_url}/customers/{customer_id}/cases", headers={"x-api-key": self.api_key}
            )
            cases: list[dict[str, Any]] = json.loads(response.data)["cases"] if response.status == 200 else []
            if cases or time.monotonic() > deadline:
                return cases
            time.sleep(0.5)

    def states_entered(self, document_uri: str) -> list[str]:
        """The states the feedback's execution entered."""
        arn = find_execution(self.clients, self.resources, f"{document_uri}#", datetime(2000, 1, 1, tzinfo=UTC))
        assert arn is not None, "no execution follows the document"
        history = self.clients.stepfunctions.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    """A stack of the feedback and CRM workers, a 6 s completion timeout, and a tap on the feedback outcomes."""
    parameters = {"FeedbackCompletionTimeoutSeconds": "6", "FeedbackPollIntervalSeconds": "1"}
    with EmulatedStack.start(stage=f"fb-{uuid.uuid4().hex[:6]}", parameters=parameters, workers=WORKERS) as stack:
        sqs, events, bus = stack.clients.sqs, stack.clients.events, stack.physical_id("EventBus")
        name = f"it-feedback-{uuid.uuid4().hex[:6]}"
        queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"detail-type": ["FeedbackAnalyzed", "FeedbackFailed"]}
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        secret = stack.client("secretsmanager").get_secret_value(SecretId=stack.physical_id("MockCrmApiKeySecret"))
        yield Harness(stack, queue_url, stack.apis["MockCrmApi"].url, secret["SecretString"])


def test_a_text_file_submitted_through_the_cli_is_analysed_and_lands_on_the_customers_record(
    harness: Harness, unique_id: str, tmp_path: Any
) -> None:
    # Given a text feedback file from a customer
    path = tmp_path / f"note-{unique_id}.txt"
    path.write_text(ANGRY, encoding="utf-8")
    lines: list[str] = []
    customer_id = f"C-{unique_id}"
    # When it is submitted with the CLI, which follows the job
    status = submit(harness.clients, harness.resources, path, customer_id, lines.append, timeout=SETTLE_SECONDS)
    # Then the CLI showed the states and ended analysed
    assert status == 0, lines
    assert any("StartJob" in line for line in lines) and any("ReadResults" in line for line in lines)
    assert "analyzed: sentiment" in lines[-1]
    feedback_id = lines[0].split()[1]
    # And FeedbackAnalyzed carries the customer, a negative reading, topics and the blueprint's fields
    analyzed = harness.outcome(feedback_id)
    assert isinstance(analyzed, FeedbackAnalyzed)
    assert analyzed.customer_id == customer_id and analyzed.sentiment in {"negative", "very_negative"}
    assert analyzed.topics and analyzed.summary and analyzed.output_uri
    assert analyzed.output_uri.endswith("job_metadata.json") and analyzed.fields["order_ids"] == "ORD-99812"
    # And the customer's CRM record holds the feedback with its analysis in a note
    cases = harness.cases(customer_id)
    (case,) = cases
    assert case["ticket_id"] == f"feedback.{feedback_id}" and case["sentiment"] == analyzed.sentiment
    assert analyzed.event_id in case["notes"][0]


def test_a_pdf_is_analysed_and_attached_to_its_customer(harness: Harness, unique_id: str) -> None:
    # Given a PDF of positive feedback uploaded under feedback/
    customer_id, feedback_id = f"C-{unique_id}", f"F-{unique_id}"
    text = "Thank you for the quick help with my order. The support agent was friendly and solved it at once."
    harness.upload(f"feedback/{feedback_id}.pdf", pdf_bytes(text), customer_id, feedback_id)
    # When the pipeline has run, Then it is analysed from the PDF's text
    analyzed = harness.outcome(feedback_id)
    assert isinstance(analyzed, FeedbackAnalyzed)
    assert analyzed.customer_id == customer_id and analyzed.sentiment == "positive"
    assert analyzed.document_uri and analyzed.document_uri.endswith(".pdf")
    # And it is on the customer's record
    (case,) = harness.cases(customer_id)
    assert case["ticket_id"] == f"feedback.{feedback_id}"


@pytest.mark.parametrize(
    ("suffix", "body", "reason"),
    [
        (".png", b"\x89PNG\r\n\x1a\n not really an image", "unsupported file type"),
        (".pdf", pdf_bytes(""), "text"),
    ],
    ids=["unsupported-type", "pdf-without-text"],
)
def test_an_unreadable_file_ends_as_failed_feedback_with_the_reason(
    harness: Harness, unique_id: str, suffix: str, body: bytes, reason: str
) -> None:
    # Given a file the service cannot read
    feedback_id = f"F-{unique_id}"
    harness.upload(f"feedback/{feedback_id}{suffix}", body, f"C-{unique_id}", feedback_id)
    # Then FeedbackFailed says it was the file's fault, and why, in one line
    failed = harness.outcome(feedback_id)
    assert isinstance(failed, FeedbackFailed)
    assert failed.error == "client" and reason in failed.reason.lower() and "\n" not in failed.reason


def test_a_lost_completion_event_is_recovered_by_polling(harness: Harness, unique_id: str) -> None:
    # Given the next job's completion event is lost
    harness.stack.bedrock.drop_job_events(first=1)
    customer_id, feedback_id = f"C-{unique_id}", f"F-{unique_id}"
    try:
        uri = harness.upload(f"feedback/{feedback_id}.txt", ANGRY.encode(), customer_id, feedback_id)
        # When the wait for the event times out, Then polling finds the finished job and it is analysed
        analyzed = harness.outcome(feedback_id)
    finally:
        harness.stack.bedrock.deliver_job_events()
    assert isinstance(analyzed, FeedbackAnalyzed) and analyzed.customer_id == customer_id
    entered = harness.states_entered(uri)
    assert entered.index("PollJob") < entered.index("ReadResults")
