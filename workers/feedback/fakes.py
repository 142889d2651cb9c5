"""Fakes of the feedback worker's ports that behave like the services they stand in for (tests, dry runs)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from workers.feedback.models import FeedbackJob, JobState, PendingJob, split_s3_uri
from workers.feedback.ports import DataAutomationClientError, JobNotFound, OutputInvalid, TaskGone


class InMemoryObjects:
    """S3 as a dict of URI → bytes and metadata."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.meta: dict[str, dict[str, str]] = {}

    def put_json(self, uri: str, document: Any) -> None:
        """Store a JSON document."""
        self.objects[uri] = json.dumps(document).encode()

    def read_json(self, uri: str) -> Any:
        """The JSON at ``uri``; ``OutputInvalid`` if missing or not JSON."""
        split_s3_uri(uri)
        if uri not in self.objects:
            raise OutputInvalid("an output the job names is missing")
        try:
            return json.loads(self.objects[uri])
        except ValueError:
            raise OutputInvalid("an output the job names is not JSON") from None

    def metadata(self, uri: str) -> Mapping[str, str]:
        """The object's metadata."""
        return self.meta.get(uri, {})

    def put_text(self, uri: str, text: str, metadata: Mapping[str, str]) -> None:
        """Store text."""
        self.objects[uri] = text.encode()
        self.meta[uri] = dict(metadata)


class InMemoryJobs:
    """The pending-job table."""

    def __init__(self) -> None:
        self.jobs: dict[str, PendingJob] = {}

    def get(self, input_uri: str) -> PendingJob:
        """The job; ``JobNotFound``."""
        if input_uri not in self.jobs:
            raise JobNotFound(input_uri)
        return self.jobs[input_uri]

    def put(self, job: PendingJob) -> None:
        """Store."""
        self.jobs[job.input_uri] = job

    def set_status(self, input_uri: str, status: str, reason: str | None = None) -> None:
        """Record the status and reason."""
        self.jobs[input_uri] = self.get(input_uri).model_copy(update={"status": status, "reason": reason})

    def list(self, limit: int = 100) -> list[PendingJob]:
        """Stored jobs."""
        return list(self.jobs.values())[:limit]


class ScriptedAutomation:
    """Data Automation whose jobs end as ``outcome`` says: same client token, same invocation.

    ``outcome(input_uri)`` returns the final ``JobState``; ``invoke`` raises ``DataAutomationClientError``
    for an input ``reject`` names, as the service refuses a request it cannot accept.
    """

    def __init__(self, outcome: Callable[[str], JobState], reject: frozenset[str] = frozenset()) -> None:
        self._outcome = outcome
        self._reject = reject
        self.invocations: dict[str, str] = {}  # client token -> invocation ARN
        self.inputs: dict[str, str] = {}  # invocation ARN -> input URI
        self.finished: set[str] = set()

    def invoke(self, input_uri: str, output_uri: str, client_token: str) -> str:
        """A new invocation per client token."""
        del output_uri
        if input_uri in self._reject:
            raise DataAutomationClientError("unsupported file type")
        arn = self.invocations.setdefault(
            client_token, f"arn:aws:bedrock:us-east-1:123456789012:data-automation-invocation/{len(self.invocations)}"
        )
        self.inputs[arn] = input_uri
        return arn

    def status(self, invocation_arn: str) -> JobState:
        """InProgress until ``finish``, then the scripted outcome."""
        if invocation_arn not in self.finished:
            return JobState(status="InProgress")
        return self._outcome(self.inputs[invocation_arn])

    def finish(self, invocation_arn: str) -> None:
        """The job ends."""
        self.finished.add(invocation_arn)


class InMemoryCallbacks:
    """Remembers each answer per token; a token in ``gone`` raises ``TaskGone``."""

    def __init__(self) -> None:
        self.succeeded: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, tuple[str, str]] = {}
        self.gone: set[str] = set()

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """Record the success."""
        self._check(task_token)
        self.succeeded[task_token] = dict(output)

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """Record the failure."""
        self._check(task_token)
        self.failed[task_token] = (error, cause)

    def _check(self, task_token: str) -> None:
        if task_token in self.gone or task_token in self.succeeded or task_token in self.failed:
            raise TaskGone("TaskTimedOut")


class InMemoryExecutions:
    """Executions by name: a second start of one name starts nothing."""

    def __init__(self) -> None:
        self.started: dict[str, FeedbackJob] = {}

    def start(self, name: str, job: FeedbackJob) -> bool:
        """Start unless the name ran."""
        if name in self.started:
            return False
        self.started[name] = job
        return True
