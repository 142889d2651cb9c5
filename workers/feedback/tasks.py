"""The state machine's worker tasks: invoke the job, poll it, read its results, report a failure.

``invoke`` stores the task token under the input object and returns without answering: the completion
event (``correlator``) or a poll answers it. Errors the state machine must see are answered with
``SendTaskFailure`` by name (``DataAutomationServiceError`` is retried there with backoff); a transient
error of our own (the table, S3) is raised, so SQS redelivers the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools import Logger

from schemas.envelope import Event, derived_event_id
from schemas.events import FeedbackAnalyzed, FeedbackFailed
from workers.feedback.analysis import FeedbackAnalyst, FeedbackEmpty
from workers.feedback.models import (
    CLIENT_ERROR,
    SERVICE_ERROR,
    FeedbackTask,
    JobState,
    PendingJob,
    digest,
    task_output,
)
from workers.feedback.ports import (
    DataAutomation,
    DataAutomationClientError,
    DataAutomationServiceError,
    JobNotFound,
    JobStore,
    ObjectStore,
    OutputInvalid,
    TaskCallbacks,
    TaskGone,
)
from workers.feedback.results import read_extraction
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

OUTPUT_INVALID = "FeedbackOutputInvalid"
FEEDBACK_EMPTY = "FeedbackEmpty"
MAX_REASON = 500
# Whose fault a caught error is; anything else (a timeout, our own bug) is the service side's.
_FAULT: dict[str, Literal["client", "service", "input"]] = {
    CLIENT_ERROR: "client",
    FEEDBACK_EMPTY: "client",
    SERVICE_ERROR: "service",
}


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` on one line within ``limit`` characters (a reason, a cause)."""
    return " ".join(text.split())[:limit] or "no reason given"


def answer_state(callbacks: TaskCallbacks, token: str, state: JobState, invocation_arn: str) -> None:
    """Answer a waiting token with a job's state: success with where its output is, or a named failure."""
    if state.status == "ClientError":
        callbacks.fail(token, CLIENT_ERROR, one_line(state.error_message or state.error_type or "client error"))
    elif state.status == "ServiceError":
        callbacks.fail(token, SERVICE_ERROR, one_line(state.error_message or state.error_type or "service error"))
    else:
        callbacks.succeed(token, task_output(state, invocation_arn))


@dataclass(frozen=True)
class JobSettings:
    """Where a job writes its output."""

    output_prefix_uri: str


class FeedbackTasks:
    """Serves the four worker tasks of the feedback state machine."""

    def __init__(
        self,
        *,
        automation: DataAutomation,
        jobs: JobStore,
        objects: ObjectStore,
        analyst: FeedbackAnalyst,
        publisher: EventPublisher,
        callbacks: TaskCallbacks,
        settings: JobSettings,
    ) -> None:
        self._automation = automation
        self._jobs = jobs
        self._objects = objects
        self._analyst = analyst
        self._publisher = publisher
        self._callbacks = callbacks
        self._settings = settings

    def process(self, task: FeedbackTask) -> Event | None:
        """Serve one task message; returns what it published."""
        try:
            if task.step == "invoke":
                self._invoke(task)
                return None
            if task.step == "poll":
                self._poll(task)
                return None
            if task.step == "results":
                return self._results(task)
            return self._report_failure(task)
        except TaskGone:
            # Nobody waits any more (timed out into the poll path, or the execution ended).
            logger.warning("task no longer waits", extra={"step": task.step, "feedback_id": task.feedback.feedback_id})
            return None

    def _invoke(self, task: FeedbackTask) -> None:
        input_uri = task.feedback.document_uri
        if not input_uri:
            self._callbacks.fail(task.task_token, CLIENT_ERROR, "feedback names no document")
            return
        attempt = self._attempt(input_uri, task.task_token)
        # Same input and attempt, same token: a redelivered invoke returns the same invocation, while a
        # Retry after a service error (a new task token) starts a new one.
        client_token = digest(input_uri, str(attempt), length=64)
        pending = PendingJob(
            input_uri=input_uri,
            task_token=task.task_token,
            invocation_arn="",
            attempt=attempt,
            feedback_id=task.feedback.feedback_id,
            status="Created",
        )
        # Stored before the call, so a completion event that outruns our write still finds the token.
        self._jobs.put(pending)
        output_uri = f"{self._settings.output_prefix_uri.rstrip('/')}/{task.feedback.feedback_id}/{attempt}/"
        try:
            arn = self._automation.invoke(input_uri, output_uri, client_token)
        except DataAutomationClientError as error:
            self._jobs.set_status(input_uri, "ClientError", one_line(str(error)))
            self._callbacks.fail(task.task_token, CLIENT_ERROR, one_line(str(error)))
            return
        except DataAutomationServiceError as error:
            self._jobs.set_status(input_uri, "ServiceError", one_line(str(error)))
            self._callbacks.fail(task.task_token, SERVICE_ERROR, one_line(str(error)))
            return
        self._jobs.put(pending.model_copy(update={"invocation_arn": arn, "status": "InProgress"}))
        logger.info("data automation invoked", extra={"feedback_id": task.feedback.feedback_id, "attempt": attempt})

    def _attempt(self, input_uri: str, token: str) -> int:
        try:
            previous = self._jobs.get(input_uri)
        except JobNotFound:
            return 1
        return previous.attempt if previous.task_token == token else previous.attempt + 1

    def _poll(self, task: FeedbackTask) -> None:
        input_uri = task.feedback.document_uri or ""
        try:
            job = self._jobs.get(input_uri)
        except JobNotFound:
            self._callbacks.fail(task.task_token, SERVICE_ERROR, "no job was started for this feedback")
            return
        if not job.invocation_arn:
            self._callbacks.fail(task.task_token, SERVICE_ERROR, "the job never started")
            return
        state = self._automation.status(job.invocation_arn)
        failure = state.error_message or state.error_type if state.status.endswith("Error") else None
        self._jobs.set_status(input_uri, state.status, one_line(failure) if failure else None)
        logger.info("data automation polled", extra={"feedback_id": job.feedback_id, "status": state.status})
        answer_state(self._callbacks, task.task_token, state, job.invocation_arn)

    def _results(self, task: FeedbackTask) -> FeedbackAnalyzed | None:
        event_id = derived_event_id(digest(task.task_token, length=64), FeedbackAnalyzed.detail_type)
        if not task.output_uri:
            self._callbacks.fail(task.task_token, OUTPUT_INVALID, "the job reported no output")
            return None
        try:
            extraction = read_extraction(self._objects, task.output_uri)
            analyzed = self._analyst.analyze(task.feedback, extraction, event_id, task.output_uri)
        except OutputInvalid as error:
            self._callbacks.fail(task.task_token, OUTPUT_INVALID, one_line(str(error)))
            return None
        except FeedbackEmpty as error:
            self._callbacks.fail(task.task_token, FEEDBACK_EMPTY, one_line(str(error)))
            return None
        self._publisher.publish([analyzed])
        self._callbacks.succeed(
            task.task_token, {"event_id": analyzed.event_id, "sentiment": analyzed.sentiment, "failed": False}
        )
        return analyzed

    def _stored_reason(self, task: FeedbackTask) -> str | None:
        """The reason the jobs table keeps for the feedback's job (where a Cause did not survive)."""
        try:
            return self._jobs.get(task.feedback.document_uri or "").reason
        except JobNotFound:
            return None

    def _report_failure(self, task: FeedbackTask) -> FeedbackFailed:
        caught = task.error
        name = caught.error if caught else "States.TaskFailed"
        kind = _FAULT.get(name, "service")
        if name == "States.Timeout":
            reason = "the job did not finish in time"
        else:
            reason = (caught.cause if caught else None) or self._stored_reason(task) or name
        failed = FeedbackFailed(
            event_id=derived_event_id(digest(task.task_token, length=64), FeedbackFailed.detail_type),
            correlation_id=task.feedback.correlation_id,
            tenant_id=task.feedback.tenant_id,
            feedback_id=task.feedback.feedback_id,
            customer_id=task.feedback.customer_id,
            document_uri=task.feedback.document_uri,
            error=kind,
            reason=one_line(reason),
        )
        self._publisher.publish([failed])
        logger.warning("feedback failed", extra={"feedback_id": failed.feedback_id, "error": name})
        self._callbacks.succeed(task.task_token, {"event_id": failed.event_id, "failed": True, "reason": failed.reason})
        return failed
