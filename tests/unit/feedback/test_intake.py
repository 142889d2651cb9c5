"""Feedback in: inline text analysed at once, documents started once per object revision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from schemas.bus import BusEvent
from schemas.events import FeedbackAnalyzed, FeedbackFailed
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.feedback.fakes import LexiconAnalyzer
from tests.unit.runtime.test_worker import sqs_event
from workers.feedback.analysis import FeedbackAnalyst
from workers.feedback.fakes import InMemoryExecutions, InMemoryObjects
from workers.feedback.intake import FeedbackIntake, IntakeSettings
from workers.feedback.models import OBJECT_CREATED
from workers.feedback.readers import DetailTypeReader
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.worker import WorkerApp, sqs_worker_reading

LoadEvent = Callable[[str], dict[str, Any]]


class Wired:
    def __init__(self, inline_max_chars: int = 200) -> None:
        self.objects = InMemoryObjects()
        self.executions = InMemoryExecutions()
        self.publisher = InMemoryPublisher()
        self.intake = FeedbackIntake(
            FeedbackAnalyst(LexiconAnalyzer()),
            self.executions,
            self.objects,
            self.publisher,
            IntakeSettings(bucket="fb", inline_max_chars=inline_max_chars),
        )


def received(load_event: LoadEvent, **detail: Any) -> BusEvent:
    event = load_event("FeedbackReceived")
    event["detail"] = {**event["detail"], **detail}
    return BusEvent.model_validate(event)


def uploaded(key: str, etag: str = "e1") -> BusEvent:
    # One EventBridge id for every upload, as moto sends them: the object, not the id, tells them apart.
    return BusEvent.model_validate(
        {
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": OBJECT_CREATED,
            "source": "aws.s3",
            "time": datetime.now(UTC),
            "detail": {"bucket": {"name": "fb"}, "object": {"key": key, "eTag": etag, "size": 10}},
        }
    )


def test_short_inline_text_is_analysed_without_a_job(load_event: LoadEvent) -> None:
    # Given feedback whose text is inline and short
    wired = Wired()
    event = wired.intake.process(received(load_event, text="Great help, thanks!", document_uri=None))
    # Then FeedbackAnalyzed is out at once for the customer, and no execution started
    assert isinstance(event, FeedbackAnalyzed) and wired.publisher.published == [event]
    assert (event.feedback_id, event.customer_id, event.sentiment) == ("F-77", "C-42", "positive")
    assert event.summary == "Great help, thanks!" and not wired.executions.started


def test_long_inline_text_is_written_and_read_through_a_job(load_event: LoadEvent) -> None:
    # Given inline text above the inline limit
    wired = Wired(inline_max_chars=20)
    text = "The parcel was late. " * 5
    wired.intake.process(received(load_event, text=text, document_uri=None))
    # Then it is in the bucket outside the feedback prefix, and one execution reads it
    (job,) = wired.executions.started.values()
    assert job.document_uri == "s3://fb/inline/F-77.txt"
    assert wired.objects.objects[job.document_uri].decode() == text.strip()


def test_a_document_named_by_the_event_starts_one_execution(load_event: LoadEvent) -> None:
    # Given FeedbackReceived naming a document, delivered twice
    wired = Wired()
    event = received(load_event)
    wired.intake.process(event)
    wired.intake.process(event)
    # Then one execution follows it, for the customer
    (job,) = wired.executions.started.values()
    assert (job.document_uri, job.customer_id, job.rating) == (
        "s3://supportflow-feedback/feedback/2026/11/20/F-77.pdf",
        "C-42",
        2,
    )


def test_an_upload_starts_an_execution_per_revision_with_the_uploaders_metadata() -> None:
    # Given an object uploaded with the customer in its metadata, its key URL-encoded by the notification
    wired = Wired()
    wired.objects.meta["s3://fb/feedback/my note.txt"] = {"customer-id": "C-7"}
    wired.intake.process(uploaded("feedback/my+note.txt"))
    wired.intake.process(uploaded("feedback/my+note.txt"))
    wired.intake.process(uploaded("feedback/my+note.txt", etag="e2"))
    # Then the decoded object is followed, once per revision, for that customer
    jobs = list(wired.executions.started.values())
    assert len(jobs) == 2
    assert {(j.document_uri, j.customer_id) for j in jobs} == {("s3://fb/feedback/my note.txt", "C-7")}


def test_feedback_with_neither_text_nor_document_fails_as_bad_input(load_event: LoadEvent) -> None:
    # Given feedback with nothing to read
    wired = Wired()
    event = wired.intake.process(received(load_event, text=None, document_uri=None))
    # Then it ends as FeedbackFailed (input), nothing started
    assert isinstance(event, FeedbackFailed) and (event.error, event.feedback_id) == ("input", "F-77")
    assert not wired.executions.started


def test_the_intake_handler_reads_both_entry_events_once(load_event: LoadEvent) -> None:
    # Given the intake's handler on the fakes
    wired = Wired()
    app = WorkerApp(handle=wired.intake.process, persistence=InMemoryIdempotencyStore())
    handler = sqs_worker_reading(DetailTypeReader(("FeedbackReceived", OBJECT_CREATED)), lambda: app)
    doc = received(load_event).model_dump_json(by_alias=True)
    uploads = [uploaded(f"feedback/F-{n}.pdf").model_dump_json(by_alias=True) for n in (1, 2)]
    # When a batch holds a document event twice and two uploads under one EventBridge id
    response = handler(sqs_event(doc, doc, *uploads, uploads[0]), FakeLambdaContext())
    # Then nothing failed and one execution started per document
    assert response == {"batchItemFailures": []}
    assert len(wired.executions.started) == 3
