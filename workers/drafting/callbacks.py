"""The Step Functions adapter of the task-callback port: SendTaskSuccess / SendTaskFailure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from workers.drafting.tasks import TaskGone
from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

# Step Functions no longer waits on the token: answering again can never succeed.
_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
# SendTaskFailure limits: error 256 characters, cause 32,768.
_MAX_ERROR = 256
_MAX_CAUSE = 32_768


class StepFunctionsCallbacks:
    """Answers waiting tasks through the Step Functions API."""

    def __init__(self, client: SFNClient | None = None) -> None:
        self._client = client or build_client("stepfunctions")

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess; ``TaskGone`` when the task no longer waits."""
        try:
            self._client.send_task_success(taskToken=task_token, output=json.dumps(output, ensure_ascii=False))
        except ClientError as error:
            self._raise(error)

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """SendTaskFailure; ``TaskGone`` when the task no longer waits."""
        try:
            self._client.send_task_failure(taskToken=task_token, error=error[:_MAX_ERROR], cause=cause[:_MAX_CAUSE])
        except ClientError as failure:
            self._raise(failure)

    @staticmethod
    def _raise(error: ClientError) -> None:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _GONE:
            raise TaskGone(code) from None
        raise error


class InMemoryCallbacks:
    """The fake of the port: remembers each answer per token; a token in ``gone`` raises ``TaskGone``."""

    def __init__(self, gone: frozenset[str] = frozenset()) -> None:
        self.succeeded: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, tuple[str, str]] = {}
        self._gone = gone

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """Record the success."""
        if task_token in self._gone:
            raise TaskGone("TaskTimedOut")
        self.succeeded[task_token] = dict(output)

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """Record the failure."""
        if task_token in self._gone:
            raise TaskGone("TaskTimedOut")
        self.failed[task_token] = (error, cause)
