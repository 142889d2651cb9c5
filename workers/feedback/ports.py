"""The feedback worker's ports: Data Automation, the pending-job table, S3, Step Functions, and its errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from workers.feedback.models import FeedbackJob, JobState, PendingJob


class DataAutomationClientError(ValueError):
    """The input cannot be processed (unsupported or unreadable file, bad request): no retry cures it."""


class DataAutomationServiceError(RuntimeError):
    """The service failed or throttled: worth retrying with backoff."""


class OutputInvalid(ValueError):
    """The job's output breaks the documented layout (no job_metadata entry, unreadable result)."""


class TaskGone(RuntimeError):
    """Step Functions no longer waits on the token (timed out, or the execution ended)."""


class JobNotFound(LookupError):
    """No pending job is stored for this input object."""


class DataAutomation(Protocol):
    """Bedrock Data Automation's runtime: start a job, read its status."""

    def invoke(self, input_uri: str, output_uri: str, client_token: str) -> str:
        """InvokeDataAutomationAsync with EventBridge notification on; the invocation ARN."""

    def status(self, invocation_arn: str) -> JobState:
        """GetDataAutomationStatus."""


class JobStore(Protocol):
    """Pending jobs keyed by input object: what a completion event or a poll finds the token by."""

    def get(self, input_uri: str) -> PendingJob:
        """The pending job of ``input_uri``; ``JobNotFound``."""

    def put(self, job: PendingJob) -> None:
        """Store (or replace) the pending job of ``job.input_uri``."""

    def set_status(self, input_uri: str, status: str, reason: str | None = None) -> None:
        """Record the job's last known status and, for a failure, its one-line reason."""

    def list(self, limit: int = 100) -> list[PendingJob]:
        """Stored jobs, for ``supportflow jobs``."""


class ObjectStore(Protocol):
    """S3 as the worker reads and writes it."""

    def read_json(self, uri: str) -> Any:
        """The JSON document at ``uri``; ``OutputInvalid`` if absent or not JSON."""

    def metadata(self, uri: str) -> Mapping[str, str]:
        """The object's user metadata (``x-amz-meta-*`` without the prefix)."""

    def put_text(self, uri: str, text: str, metadata: Mapping[str, str]) -> None:
        """Write a UTF-8 text object."""


class TaskCallbacks(Protocol):
    """Answers a waiting Step Functions task."""

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess; ``TaskGone`` when the task no longer waits."""

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """SendTaskFailure; ``TaskGone`` when the task no longer waits."""


class Executions(Protocol):
    """Starts the feedback state machine."""

    def start(self, name: str, job: FeedbackJob) -> bool:
        """Start an execution named ``name``; False when one of that name already ran (a redelivery)."""
