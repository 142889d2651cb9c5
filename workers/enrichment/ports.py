"""The enrichment worker's ports: catalog, pending runs, batch inference, the model on demand, S3, Step Functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workers.enrichment.models import CatalogItem, Enrichment, JobState, PendingRun
from workers.shared.bedrock.result import Usage


class BatchRejected(ValueError):
    """CreateModelInvocationJob refused the job (validation, quota, access): the run cannot go by batch."""


class TaskGone(RuntimeError):
    """Step Functions no longer waits on the token (timed out, or the execution ended)."""


class RunNotFound(LookupError):
    """No pending run is stored under this run id or job ARN."""


class ItemNotFound(LookupError):
    """The catalog has no such item."""


class OutputMissing(LookupError):
    """An object the job should have written is not there."""


@dataclass(frozen=True)
class Enriched:
    """One item enriched on demand, what it used and cost."""

    enrichment: Enrichment
    usage: Usage
    cost_usd: float


class Catalog(Protocol):
    """The catalog table."""

    def needing_enrichment(self, limit: int) -> list[CatalogItem]:
        """Items that are new or changed since their last enrichment, up to ``limit``, by item id."""

    def get(self, item_id: str) -> CatalogItem:
        """One item; ``ItemNotFound``."""

    def write_enrichment(self, item_id: str, content_hash: str, enrichment: Enrichment, run_id: str) -> bool:
        """Store the enrichment if the item still has ``content_hash``; False when it changed meanwhile."""

    def put_items(self, items: Sequence[CatalogItem]) -> int:
        """Insert or update items (content and its hash; an existing enrichment is kept); how many changed."""


class RunStore(Protocol):
    """Pending runs, keyed by run id, findable by job ARN."""

    def put(self, run: PendingRun) -> None:
        """Store (or replace) a run."""

    def get(self, run_id: str) -> PendingRun:
        """A run by id; ``RunNotFound``."""

    def by_job(self, job_arn: str) -> PendingRun:
        """The run waiting on ``job_arn``; ``RunNotFound``."""

    def set_status(self, run_id: str, status: str, message: str = "") -> None:
        """Record the job's last known status."""


class BatchInference(Protocol):
    """Bedrock's batch inference control plane."""

    def submit(self, job_name: str, input_uri: str, output_uri: str, client_token: str) -> str:
        """CreateModelInvocationJob; the job ARN; ``BatchRejected``."""

    def state(self, job_arn: str) -> JobState:
        """GetModelInvocationJob."""


class OnDemandEnricher(Protocol):
    """The model called per item through the Bedrock client module."""

    def enrich(self, item: CatalogItem) -> Enriched:
        """One item's enrichment; raises a ``BedrockError`` when the model cannot give one."""


class ObjectStore(Protocol):
    """S3 as the worker reads and writes it."""

    def put_text(self, uri: str, text: str) -> None:
        """Write a UTF-8 object."""

    def read_text(self, uri: str) -> str:
        """Read a UTF-8 object; ``OutputMissing``."""


class TaskCallbacks(Protocol):
    """Answers a waiting Step Functions task."""

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess; ``TaskGone`` when the task no longer waits."""

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """SendTaskFailure; ``TaskGone`` when the task no longer waits."""
