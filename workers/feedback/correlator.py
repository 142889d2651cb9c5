"""Completion events in, waiting tasks answered: the token is found by the job's input object."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from schemas.bus import BusEvent
from workers.feedback.models import CLIENT_ERROR, JOB_CLIENT_ERROR, JOB_SUCCEEDED, SERVICE_ERROR, JobCompleted
from workers.feedback.ports import DataAutomation, JobNotFound, JobStore, TaskCallbacks, TaskGone
from workers.feedback.tasks import answer_state, one_line

logger = Logger(child=True)


class JobNotStarted(RuntimeError):
    """The event outran the invoke task's write of the invocation ARN: redelivery finds it."""


class CompletionCorrelator:
    """Answers the task that waits on a Data Automation job when the job's completion event arrives."""

    def __init__(self, automation: DataAutomation, jobs: JobStore, callbacks: TaskCallbacks) -> None:
        self._automation = automation
        self._jobs = jobs
        self._callbacks = callbacks

    def process(self, event: BusEvent) -> None:
        """Resume the waiting task: success with the output's location, or the failure by name."""
        completed = JobCompleted.model_validate(event.detail)
        input_uri = completed.input_s3_object.uri
        try:
            job = self._jobs.get(input_uri)
        except JobNotFound:
            # Another application's job on the same default bus: not ours to answer.
            logger.info("completion of a job we do not follow", extra={"job_id": completed.job_id})
            return
        try:
            if event.detail_type == JOB_SUCCEEDED:
                if not job.invocation_arn:
                    raise JobNotStarted(job.feedback_id)
                # The status names job_metadata.json itself; the event's output location is only a prefix.
                state = self._automation.status(job.invocation_arn)
                self._jobs.set_status(input_uri, state.status)
                answer_state(self._callbacks, job.task_token, state, job.invocation_arn)
            else:
                error = CLIENT_ERROR if event.detail_type == JOB_CLIENT_ERROR else SERVICE_ERROR
                reason = one_line(completed.error_message or completed.error_type or event.detail_type)
                self._jobs.set_status(input_uri, "ClientError" if error == CLIENT_ERROR else "ServiceError", reason)
                self._callbacks.fail(job.task_token, error, reason)
        except TaskGone:
            # The wait timed out and a poll took over (or already answered): nothing left to resume.
            logger.info("completion after the task stopped waiting", extra={"feedback_id": job.feedback_id})
            return
        logger.info(
            "job completion delivered", extra={"feedback_id": job.feedback_id, "detail_type": event.detail_type}
        )
