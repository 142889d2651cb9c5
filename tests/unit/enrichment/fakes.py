"""In-memory stand-ins of the enrichment ports that behave like the services (a batch job answers its JSONL)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workers.enrichment.models import CatalogItem, Enrichment, FaqAnswer, JobState, PendingRun
from workers.enrichment.ports import BatchRejected, Enriched, ItemNotFound, OutputMissing, RunNotFound, TaskGone
from workers.enrichment.records import TOOL_NAME, read_input
from workers.shared.bedrock.errors import ModelFailed
from workers.shared.bedrock.result import Usage

FAIL_MARKER = "BROKEN-ITEM"


def enrichment_of(text: str) -> Enrichment:
    """What a model computes from an item's text here: its first words as tags, its first sentence as summary."""
    words = [w.strip(".,;:").lower() for w in text.split() if len(w) > 4]
    return Enrichment(
        tags=sorted(set(words))[:5] or ["item"],
        summary=text.split(". ", maxsplit=1)[0][:600],
        faq=[FaqAnswer(question="What is it?", answer=text[:200])],
    )


class InMemoryCatalog:
    """The catalog table with its conditional write on the content hash."""

    def __init__(self, items: Sequence[CatalogItem] = ()) -> None:
        self.items: dict[str, CatalogItem] = {}
        self.enrichments: dict[str, Enrichment] = {}
        self.put_items(items)

    def needing_enrichment(self, limit: int) -> list[CatalogItem]:
        """New or changed items by id."""
        return [i for _, i in sorted(self.items.items()) if i.needs_enrichment][:limit]

    def get(self, item_id: str) -> CatalogItem:
        """One item."""
        if item_id not in self.items:
            raise ItemNotFound(item_id)
        return self.items[item_id]

    def write_enrichment(self, item_id: str, content_hash: str, enrichment: Enrichment, run_id: str) -> bool:
        """Only while the content is still the one enriched."""
        item = self.items.get(item_id)
        if item is None or item.content_hash != content_hash:
            return False
        self.items[item_id] = item.model_copy(update={"enriched_hash": content_hash})
        self.enrichments[item_id] = enrichment
        return True

    def put_items(self, items: Sequence[CatalogItem]) -> int:
        """Insert or update content, keeping the enrichment hash."""
        changed = 0
        for item in items:
            hashed = item.hashed()
            old = self.items.get(hashed.item_id)
            if old is not None and old.content_hash == hashed.content_hash:
                continue
            keep = old.enriched_hash if old else None
            self.items[hashed.item_id] = hashed.model_copy(update={"enriched_hash": keep})
            changed += 1
        return changed


class InMemoryRuns:
    """Pending runs by id and job ARN."""

    def __init__(self) -> None:
        self.runs: dict[str, PendingRun] = {}

    def put(self, run: PendingRun) -> None:
        """Store a run."""
        self.runs[run.run_id] = run

    def get(self, run_id: str) -> PendingRun:
        """A run by id."""
        if run_id not in self.runs:
            raise RunNotFound(run_id)
        return self.runs[run_id]

    def by_job(self, job_arn: str) -> PendingRun:
        """A run by job ARN."""
        for run in self.runs.values():
            if run.job_arn and run.job_arn == job_arn:
                return run
        raise RunNotFound(job_arn)

    def set_status(self, run_id: str, status: str, message: str = "") -> None:
        """Record a status."""
        self.runs[run_id] = self.get(run_id).model_copy(update={"status": status, "message": message})


class InMemoryObjects:
    """S3 as a dict of URIs."""

    def __init__(self) -> None:
        self.objects: dict[str, str] = {}

    def put_text(self, uri: str, text: str) -> None:
        """Write."""
        self.objects[uri] = text

    def read_text(self, uri: str) -> str:
        """Read."""
        if uri not in self.objects:
            raise OutputMissing(uri)
        return self.objects[uri]


@dataclass
class JobRun:
    """One submitted job."""

    arn: str
    input_uri: str
    output_uri: str
    status: str = "Submitted"
    message: str = ""


class OfflineBatch:
    """A batch job that answers its input like Bedrock: records in reverse order, a marked record as an error."""

    def __init__(self, objects: InMemoryObjects, minimum: int = 1) -> None:
        self._objects = objects
        self._minimum = minimum
        self.jobs: dict[str, JobRun] = {}
        self.by_token: dict[str, str] = {}

    def submit(self, job_name: str, input_uri: str, output_uri: str, client_token: str) -> str:
        """Validate and queue the job (idempotent on the client token)."""
        if client_token in self.by_token:
            return self.by_token[client_token]
        if len(read_input(self._objects.read_text(input_uri))) < self._minimum:
            raise BatchRejected("The number of records in the input is below the minimum")
        arn = f"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/job{len(self.jobs):09d}"
        self.jobs[arn] = JobRun(arn, input_uri, output_uri)
        self.by_token[client_token] = arn
        return arn

    def run(self, arn: str, *, fail_with: str = "") -> None:
        """Run the job to its end, writing ``<output>/<job id>/<input file>.out``."""
        job = self.jobs[arn]
        if fail_with:
            job.status, job.message = "Failed", fail_with
            return
        lines = []
        for rid, body in reversed(read_input(self._objects.read_text(job.input_uri)).items()):
            # The item's own text follows the prompt's header lines.
            text = body["messages"][0]["content"][0]["text"].split("\n\n", 1)[-1]
            if FAIL_MARKER in text:
                lines.append({"recordId": rid, "error": {"errorCode": 500, "errorMessage": "The model failed."}})
                continue
            content = [{"type": "tool_use", "id": "t1", "name": TOOL_NAME, "input": enrichment_of(text).model_dump()}]
            usage = {"input_tokens": 100, "output_tokens": 50}
            lines.append({"recordId": rid, "modelInput": body, "modelOutput": {"content": content, "usage": usage}})
        name = job.input_uri.rsplit("/", 1)[-1]
        out = f"{job.output_uri.rstrip('/')}/{arn.rsplit('/', 1)[-1]}/{name}.out"
        self._objects.put_text(out, "".join(json.dumps(line) + "\n" for line in lines))
        job.status = "PartiallyCompleted" if any("error" in line for line in lines) else "Completed"

    def state(self, job_arn: str) -> JobState:
        """The job's state."""
        job = self.jobs[job_arn]
        return JobState(job_arn=job_arn, status=job.status, message=job.message, output_uri=job.output_uri)


class OnDemandModel:
    """The on-demand path: computes the enrichment from the text, 200 in / 80 out tokens at a fixed price."""

    def __init__(self, broken: frozenset[str] = frozenset(), cost: float = 0.001) -> None:
        self.broken = broken
        self.cost = cost
        self.calls: list[str] = []

    def enrich(self, item: CatalogItem) -> Enriched:
        """One item."""
        self.calls.append(item.item_id)
        if item.item_id in self.broken:
            raise ModelFailed("the model failed", code="ModelErrorException")
        return Enriched(enrichment_of(item.text), Usage(200, 80), self.cost)


@dataclass
class InMemoryCallbacks:
    """Answers by token; a token answered twice is gone, as in Step Functions."""

    succeeded: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess."""
        self._check(task_token)
        self.succeeded[task_token] = output

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """SendTaskFailure."""
        self._check(task_token)
        self.failed[task_token] = (error, cause)

    def _check(self, task_token: str) -> None:
        if task_token in self.succeeded or task_token in self.failed:
            raise TaskGone("TaskTimedOut")
