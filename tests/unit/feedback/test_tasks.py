"""The state machine's tasks and the completion correlator: the token waits under the input object."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.bus import BusEvent
from schemas.events import FeedbackAnalyzed, FeedbackFailed
from tests.unit.feedback.fakes import LexiconAnalyzer, write_document_output
from workers.feedback.analysis import FeedbackAnalyst
from workers.feedback.correlator import CompletionCorrelator
from workers.feedback.fakes import (
    InMemoryCallbacks,
    InMemoryJobs,
    InMemoryObjects,
    ScriptedAutomation,
)
from workers.feedback.models import (
    CLIENT_ERROR,
    JOB_CLIENT_ERROR,
    JOB_SUCCEEDED,
    SERVICE_ERROR,
    FeedbackJob,
    FeedbackTask,
    JobState,
    TaskError,
)
from workers.feedback.tasks import FeedbackTasks, JobSettings
from workers.shared.publisher import InMemoryPublisher

DOC = "s3://fb/feedback/F-1.pdf"
UNREADABLE = "s3://fb/feedback/F-2.png"
METADATA = "s3://fb/bda-output/F-1/1/job-1/job_metadata.json"
JOB = FeedbackJob(feedback_id="F-1", correlation_id="F-1", customer_id="C-42", document_uri=DOC)


class Wired:
    """Tasks and correlator on one set of fakes."""

    def __init__(self, outcome: JobState | None = None) -> None:
        self.objects = InMemoryObjects()
        self.jobs = InMemoryJobs()
        self.callbacks = InMemoryCallbacks()
        self.publisher = InMemoryPublisher()
        self.analyzer = LexiconAnalyzer()
        final = outcome or JobState(status="Success", output_uri=METADATA)
        self.automation = ScriptedAutomation(lambda _uri: final, reject=frozenset({UNREADABLE}))
        self.tasks = FeedbackTasks(
            automation=self.automation,
            jobs=self.jobs,
            objects=self.objects,
            analyst=FeedbackAnalyst(self.analyzer),
            publisher=self.publisher,
            callbacks=self.callbacks,
            settings=JobSettings(output_prefix_uri="s3://fb/bda-output/"),
        )
        self.correlator = CompletionCorrelator(self.automation, self.jobs, self.callbacks)


def task(step: str, token: str, job: FeedbackJob = JOB, **fields: Any) -> FeedbackTask:
    return FeedbackTask.model_validate({"taskToken": token, "step": step, "feedback": job.model_dump(), **fields})


def completion(detail_type: str, input_uri: str = DOC, **detail: Any) -> BusEvent:
    bucket, key = input_uri[5:].split("/", 1)
    return BusEvent.model_validate(
        {
            "id": "e-1",
            "detail-type": detail_type,
            "source": "aws.bedrock",
            "time": datetime.now(UTC),
            "detail": {
                "job_id": "job-1",
                "job_status": "SUCCESS",
                "input_s3_object": {"s3_bucket": bucket, "name": key},
                "output_s3_location": {"s3_bucket": "fb", "name": "bda-output/F-1/1"},
                **detail,
            },
        }
    )


def test_invoke_stores_the_token_under_the_input_and_leaves_the_task_waiting() -> None:
    # Given an invoke task for a document
    wired = Wired()
    # When it is processed
    wired.tasks.process(task("invoke", "tok-1"))
    # Then one job was started and its token stored under the input object, unanswered
    (arn,) = wired.automation.inputs
    stored = wired.jobs.get(DOC)
    assert (stored.task_token, stored.invocation_arn, stored.attempt) == ("tok-1", arn, 1)
    assert not wired.callbacks.succeeded and not wired.callbacks.failed


def test_a_redelivered_invoke_reuses_its_client_token_and_a_retry_gets_a_new_one() -> None:
    # Given an invoke task processed twice (an SQS redelivery), then again under a new token (an ASL Retry)
    wired = Wired()
    wired.tasks.process(task("invoke", "tok-1"))
    wired.tasks.process(task("invoke", "tok-1"))
    first = set(wired.automation.invocations)
    wired.tasks.process(task("invoke", "tok-2"))
    # Then the redelivery asked for the same invocation, the retry for a new one
    assert len(first) == 1
    assert len(wired.automation.invocations) == 2 and wired.jobs.get(DOC).attempt == 2


def test_a_file_the_service_refuses_fails_the_task_as_a_client_error() -> None:
    # Given a document the service cannot read
    wired = Wired()
    # When it is invoked
    wired.tasks.process(
        task("invoke", "tok-1", FeedbackJob(feedback_id="F-2", correlation_id="F-2", document_uri=UNREADABLE))
    )
    # Then the task failed as a client error with the service's reason
    assert wired.callbacks.failed["tok-1"] == (CLIENT_ERROR, "unsupported file type")


def test_the_success_event_resumes_the_waiting_task_with_the_metadata_uri() -> None:
    # Given a job waiting on its completion, which has finished
    wired = Wired()
    wired.tasks.process(task("invoke", "tok-1"))
    wired.automation.finish(wired.jobs.get(DOC).invocation_arn)
    # When the success event arrives
    wired.correlator.process(completion(JOB_SUCCEEDED))
    # Then the waiting token succeeded with job_metadata.json's URI (from the status, not built from the event)
    assert wired.callbacks.succeeded["tok-1"]["output_uri"] == METADATA
    assert wired.jobs.get(DOC).status == "Success"


def test_a_client_error_event_fails_the_task_with_the_reason() -> None:
    # Given a waiting job
    wired = Wired()
    wired.tasks.process(task("invoke", "tok-1"))
    # When the service says it could not read the file
    wired.correlator.process(completion(JOB_CLIENT_ERROR, error_message="No text could be extracted from the PDF"))
    # Then the task failed by name, with the reason on one line
    assert wired.callbacks.failed["tok-1"] == (CLIENT_ERROR, "No text could be extracted from the PDF")


def test_events_of_jobs_we_do_not_follow_and_late_events_answer_nothing() -> None:
    # Given one waiting job whose task has stopped waiting (timed out into polling)
    wired = Wired()
    wired.tasks.process(task("invoke", "tok-1"))
    wired.callbacks.gone.add("tok-1")
    # When a stranger's completion and our late one arrive
    wired.correlator.process(completion(JOB_SUCCEEDED, input_uri="s3://other/x.pdf"))
    wired.correlator.process(completion(JOB_CLIENT_ERROR))
    # Then nothing was answered and nothing raised
    assert not wired.callbacks.succeeded and not wired.callbacks.failed


def test_polling_reports_in_progress_then_the_finished_job() -> None:
    # Given a started job whose completion event never came
    wired = Wired()
    wired.tasks.process(task("invoke", "tok-1"))
    # When polled before and after it finishes
    wired.tasks.process(task("poll", "poll-1"))
    wired.automation.finish(wired.jobs.get(DOC).invocation_arn)
    wired.tasks.process(task("poll", "poll-2"))
    # Then the first poll said InProgress and the second gave the output
    assert wired.callbacks.succeeded["poll-1"]["status"] == "InProgress"
    assert wired.callbacks.succeeded["poll-2"] == {
        "status": "Success",
        "output_uri": METADATA,
        "invocation_arn": wired.jobs.get(DOC).invocation_arn,
    }


def test_polling_a_job_that_failed_at_the_service_fails_the_task_for_a_retry() -> None:
    # Given a job the service failed
    wired = Wired(JobState(status="ServiceError", error_type="InternalServerException", error_message="try later"))
    wired.tasks.process(task("invoke", "tok-1"))
    wired.automation.finish(wired.jobs.get(DOC).invocation_arn)
    # When polled
    wired.tasks.process(task("poll", "poll-1"))
    # Then the task fails as a service error (the state machine retries it with backoff)
    assert wired.callbacks.failed["poll-1"] == (SERVICE_ERROR, "try later")


def test_results_publish_feedback_analyzed_for_the_customer() -> None:
    # Given a finished job's output with a blueprint's fields
    wired = Wired()
    text = "The parcel was late and broken. Worst delivery ever, I want a refund."
    write_document_output(wired.objects, "s3://fb/bda-output/F-1/1", text, custom={"topics": ["delivery"], "rating": 1})
    # When the results task runs
    event = wired.tasks.process(task("results", "res-1", output_uri=METADATA))
    # Then FeedbackAnalyzed carries the customer, the sentiment of the text, topics and fields, and the task succeeded
    assert isinstance(event, FeedbackAnalyzed) and wired.publisher.published == [event]
    assert (event.customer_id, event.sentiment, event.topics) == ("C-42", "very_negative", ["delivery"])
    assert event.fields == {"rating": 1} and event.output_uri == METADATA
    assert wired.analyzer.texts == [text]
    assert wired.callbacks.succeeded["res-1"]["event_id"] == event.event_id


def test_a_redelivered_results_task_publishes_the_same_event_id() -> None:
    # Given the same results task message twice
    wired = Wired()
    write_document_output(wired.objects, "s3://fb/bda-output/F-1/1", "Great help, thanks.")
    first = wired.tasks.process(task("results", "res-1", output_uri=METADATA))
    wired.callbacks.succeeded.clear()
    second = wired.tasks.process(task("results", "res-1", output_uri=METADATA))
    # Then both carry one event id, so consumers deduplicate
    assert first is not None and second is not None and first.event_id == second.event_id


def test_output_without_text_fails_the_results_task() -> None:
    # Given an output whose document has no text
    wired = Wired()
    write_document_output(wired.objects, "s3://fb/bda-output/F-1/1", "")
    # When the results task runs
    assert wired.tasks.process(task("results", "res-1", output_uri=METADATA)) is None
    # Then it failed by name and nothing was published
    assert wired.callbacks.failed["res-1"][0] == "FeedbackEmpty" and not wired.publisher.published


@pytest.mark.parametrize(
    ("error", "cause", "kind", "reason"),
    [
        (CLIENT_ERROR, "unsupported file type", "client", "unsupported file type"),
        (SERVICE_ERROR, "InternalServerException", "service", "InternalServerException"),
        ("States.Timeout", "", "service", "the job did not finish in time"),
    ],
)
def test_the_fail_step_emits_feedback_failed_with_whose_fault_and_why(
    error: str, cause: str, kind: str, reason: str
) -> None:
    # Given a caught error
    wired = Wired()
    # When the fail step runs
    event = wired.tasks.process(
        task("fail", "fail-1", error=TaskError(Error=error, Cause=cause).model_dump(by_alias=True))
    )
    # Then FeedbackFailed says whose fault and why, for the customer and document
    assert isinstance(event, FeedbackFailed) and wired.publisher.published == [event]
    assert (event.error, event.reason, event.customer_id, event.document_uri) == (kind, reason, "C-42", DOC)
    assert wired.callbacks.succeeded["fail-1"]["failed"] is True


def test_a_failure_whose_cause_was_lost_is_reported_with_the_reason_the_table_kept() -> None:
    # Given a job the service refused, its failure caught without a Cause (as moto's interpreter delivers it)
    wired = Wired()
    wired.tasks.process(task("invoke", "tok-1"))
    wired.correlator.process(completion(JOB_CLIENT_ERROR, error_message="unsupported file type: F-1.png"))
    caught = {"Error": CLIENT_ERROR, "Cause": None}
    # When the fail step runs
    event = wired.tasks.process(task("fail", "fail-1", error=caught))
    # Then FeedbackFailed carries the service's reason from the jobs table
    assert isinstance(event, FeedbackFailed)
    assert (event.error, event.reason) == ("client", "unsupported file type: F-1.png")
