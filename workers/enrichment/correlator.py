"""Batch job state changes in, the waiting start task answered: the token is found by the job's ARN."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from schemas.bus import BusEvent
from workers.enrichment.models import ACTIVE_STATUSES, JobStateChanged
from workers.enrichment.ports import BatchInference, RunNotFound, RunStore, TaskCallbacks, TaskGone
from workers.enrichment.tasks import answer_state

logger = Logger(child=True)


class CompletionCorrelator:
    """Resumes the run that waits on a batch job when the job reaches a final state."""

    def __init__(self, batch: BatchInference, runs: RunStore, callbacks: TaskCallbacks) -> None:
        self._batch = batch
        self._runs = runs
        self._callbacks = callbacks

    def process(self, event: BusEvent) -> None:
        """Record the job's state; at a final one, answer the stored token (success or the failure by name)."""
        changed = JobStateChanged.model_validate(event.detail)
        try:
            run = self._runs.by_job(changed.job_arn)
        except RunNotFound:
            # Another application's job on the same default bus: not ours to answer.
            logger.info("state change of a job we do not follow", extra={"status": changed.status})
            return
        self._runs.set_status(run.run_id, changed.status, changed.message)
        if changed.status in ACTIVE_STATUSES:
            return
        # Events can arrive out of order: the job's own state is the one to answer with.
        state = self._batch.state(changed.job_arn)
        if state.status in ACTIVE_STATUSES:
            return
        try:
            answer_state(self._callbacks, run.task_token, state)
        except TaskGone:
            # The wait timed out and a poll took over (or already answered): nothing left to resume.
            logger.info("job ended after the task stopped waiting", extra={"run_id": run.run_id})
            return
        logger.info("batch job completion delivered", extra={"run_id": run.run_id, "status": state.status})
