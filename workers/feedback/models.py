"""What crosses the feedback worker's boundaries: the job it follows, its task messages, AWS's events."""

from __future__ import annotations

import hashlib
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from workers.shared.runtime.readers import TaskTokenMessage

# The three completion detail-types Bedrock Data Automation puts on the default bus.
JOB_SUCCEEDED = "Bedrock Data Automation Job Succeeded"
JOB_CLIENT_ERROR = "Bedrock Data Automation Job Failed With Client Error"
JOB_SERVICE_ERROR = "Bedrock Data Automation Job Failed With Service Error"
COMPLETION_TYPES = (JOB_SUCCEEDED, JOB_CLIENT_ERROR, JOB_SERVICE_ERROR)
OBJECT_CREATED = "Object Created"

# SendTaskFailure error names the state machine matches (Retry on service errors, Catch the rest).
CLIENT_ERROR = "DataAutomationClientError"
SERVICE_ERROR = "DataAutomationServiceError"

JobStatus = Literal["Created", "InProgress", "Success", "ServiceError", "ClientError"]


def s3_uri(bucket: str, key: str) -> str:
    """``s3://bucket/key``."""
    return f"s3://{bucket}/{key}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://`` URI; ``ValueError`` for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError("not an s3://bucket/key URI")
    bucket, key = uri[5:].split("/", 1)
    if not bucket or not key:
        raise ValueError("not an s3://bucket/key URI")
    return bucket, key


def digest(*parts: str, length: int = 40) -> str:
    """A stable hex digest of ``parts`` (names, client tokens): equal inputs, equal names."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


class FeedbackJob(BaseModel):
    """One piece of feedback the state machine follows: who sent it and where its document is."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    feedback_id: str = Field(min_length=1, max_length=128)
    correlation_id: str = Field(min_length=1, max_length=128)
    tenant_id: str = "default"
    customer_id: str | None = None
    document_uri: str | None = Field(default=None, description="s3://bucket/key of the document BDA reads.")
    rating: int | None = None


class TaskError(BaseModel):
    """What a Catch puts in the input: Step Functions' ``Error`` and ``Cause``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    error: str = Field(default="States.TaskFailed", alias="Error")
    # moto's interpreter drops the Cause of SendTaskFailure (null); the jobs table keeps the reason too.
    cause: str | None = Field(default=None, alias="Cause")


class FeedbackTask(TaskTokenMessage):
    """``{"taskToken", "step", "feedback", ...}`` from one of the state machine's worker tasks.

    ``invoke`` starts the job and leaves the token waiting for the completion event; ``poll`` asks for
    the job's status (the fallback when no event came); ``results`` reads the output and emits
    ``FeedbackAnalyzed``; ``fail`` emits ``FeedbackFailed`` with the caught error.
    """

    step: Literal["invoke", "poll", "results", "fail"]
    feedback: FeedbackJob
    output_uri: str | None = Field(default=None, description="job_metadata.json, for the results step.")
    error: TaskError | None = None

    @property
    def correlation_id(self) -> str | None:
        """The feedback's correlation id."""
        return self.feedback.correlation_id


class S3ObjectRef(BaseModel):
    """``input_s3_object`` / ``output_s3_location`` of a completion event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    s3_bucket: str
    name: str

    @property
    def uri(self) -> str:
        """As an ``s3://`` URI."""
        return s3_uri(self.s3_bucket, self.name)


class JobCompleted(BaseModel):
    """The detail of a Bedrock Data Automation completion event (only the fields read)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: str
    job_status: str = ""
    input_s3_object: S3ObjectRef
    output_s3_location: S3ObjectRef | None = None
    error_message: str | None = None
    error_type: str | None = None


class _S3Bucket(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str


class _S3Object(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    key: str
    # S3 writes "etag"; moto writes "eTag".
    etag: str = Field(default="", validation_alias=AliasChoices("etag", "eTag"))
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str = ""


class ObjectCreated(BaseModel):
    """The detail of an S3 "Object Created" event (EventBridge notifications on the bucket)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    bucket: _S3Bucket
    object: _S3Object

    @property
    def key(self) -> str:
        """The object key, decoded (notifications may carry it URL-encoded)."""
        return unquote_plus(self.object.key)

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return s3_uri(self.bucket.name, self.key)

    @property
    def revision(self) -> str:
        """What tells two uploads of one key apart: the version id, else the ETag and sequencer."""
        return self.object.version_id or f"{self.object.etag}:{self.object.sequencer}"


class PendingJob(BaseModel):
    """A job waiting on its completion: the token to answer, keyed by its input object."""

    model_config = ConfigDict(frozen=True)

    input_uri: str
    task_token: str
    invocation_arn: str
    attempt: int = Field(ge=1)
    feedback_id: str
    status: str = "InProgress"
    reason: str | None = None


class JobState(BaseModel):
    """A job's status as GetDataAutomationStatus reports it."""

    model_config = ConfigDict(frozen=True)

    status: JobStatus
    output_uri: str | None = None
    error_type: str | None = None
    error_message: str | None = None


def task_output(state: JobState, invocation_arn: str) -> dict[str, Any]:
    """What the waiting task receives: the status and where job_metadata.json is."""
    return {"status": state.status, "output_uri": state.output_uri, "invocation_arn": invocation_arn}
