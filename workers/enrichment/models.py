"""What crosses the enrichment worker's boundaries: catalog items, enrichments, runs, task messages, AWS's event."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workers.shared.runtime.readers import TaskTokenMessage

# Bedrock's batch job state change on the default bus (source aws.bedrock).
JOB_STATE_CHANGE = "Batch Inference Job State Change"
ACTIVE_STATUSES = frozenset({"Submitted", "Validating", "Scheduled", "InProgress", "Stopping"})
SUCCESS_STATUSES = frozenset({"Completed", "PartiallyCompleted"})
# A failed, stopped or expired job ends the run: the state machine fails with the job's message.
FAILED_STATUSES = frozenset({"Failed", "Stopped", "Expired"})
# SendTaskFailure error name the state machine catches.
JOB_FAILED = "BatchJobFailed"
# What the start task answers when it finished the run itself (on demand): no job to wait for.
ENRICHED = "Enriched"


def digest(*parts: str, length: int = 40) -> str:
    """A stable hex digest of ``parts``: equal inputs, equal names and hashes."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


class FaqAnswer(BaseModel):
    """One question a customer would ask about the item, and its answer from the item's text."""

    question: str = Field(min_length=1, max_length=300)
    answer: str = Field(min_length=1, max_length=1000)


class Enrichment(BaseModel):
    """What the model writes for one item."""

    model_config = ConfigDict(extra="ignore")

    tags: list[str] = Field(min_length=1, max_length=10, description="Short lower-case search tags.")
    summary: str = Field(min_length=1, max_length=600, description="One or two sentences for search results.")
    faq: list[FaqAnswer] = Field(default_factory=list, max_length=5, description="Likely questions, answered.")


class CatalogItem(BaseModel):
    """One product or help item; it needs enrichment while ``enriched_hash`` differs from ``content_hash``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    item_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["product", "help"] = "product"
    category: str = ""
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=8000)
    content_hash: str = ""
    enriched_hash: str | None = None

    def hashed(self) -> CatalogItem:
        """This item with the hash of its current content."""
        return self.model_copy(update={"content_hash": content_hash(self)})

    @property
    def needs_enrichment(self) -> bool:
        """New (never enriched) or changed since its last enrichment."""
        return self.enriched_hash != (self.content_hash or content_hash(self))


def content_hash(item: CatalogItem) -> str:
    """What the enrichment depends on: kind, category, title and text."""
    return digest(item.kind, item.category, item.title, item.text, length=32)


class RunRequest(BaseModel):
    """The state machine's input: a ``CatalogEnrichmentRequested``-like request (the scheduler's or the CLI's)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    correlation_id: str = Field(default="", max_length=128)
    tenant_id: str = "default"


class BatchRecord(BaseModel):
    """Which item (and content) a JSONL record enriches: the join key is ``record_id``, never the position."""

    model_config = ConfigDict(frozen=True)

    record_id: str
    item_id: str
    content_hash: str


class PendingRun(BaseModel):
    """A run waiting on its batch job: found by job ARN (the completion event) or by run id (a poll)."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    task_token: str
    job_arn: str = ""
    input_uri: str
    output_uri: str
    status: str = "Created"
    message: str = ""
    records: int = 0


class JobState(BaseModel):
    """GetModelInvocationJob as the worker needs it."""

    model_config = ConfigDict(frozen=True)

    job_arn: str
    status: str
    message: str = ""
    output_uri: str = ""


class TaskError(BaseModel):
    """What a Catch puts in the input: Step Functions' ``Error`` and ``Cause``."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    error: str = Field(default="States.TaskFailed", alias="Error")
    cause: str = Field(default="", alias="Cause")


class EnrichmentTask(TaskTokenMessage):
    """``{"taskToken", "step", "run", ...}`` from one of the enrichment state machine's worker tasks.

    ``start`` selects the items and either submits a batch job (the token waits for its completion) or
    enriches them on demand and answers at once; ``poll`` reads the job's state (the fallback when no
    event came); ``results`` parses the job's output, retries record errors on demand, writes the
    enrichments and emits ``CatalogEnriched``.
    """

    step: Literal["start", "poll", "results"]
    run: RunRequest
    job_arn: str | None = None

    @property
    def correlation_id(self) -> str | None:
        """The run's correlation id."""
        return self.run.correlation_id or self.run.run_id


class JobStateChanged(BaseModel):
    """The detail of "Batch Inference Job State Change" (the fields the correlator reads)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    job_arn: str = Field(alias="batchJobArn")
    job_name: str = Field(default="", alias="batchJobName")
    status: str
    message: str = Field(default="", alias="failureMessage")


def task_output(state: JobState, **extra: Any) -> dict[str, Any]:
    """What a waiting task answers: the job's status and where it is."""
    return {"status": state.status, "job_arn": state.job_arn, "message": state.message, **extra}
