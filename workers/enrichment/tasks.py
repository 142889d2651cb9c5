"""The enrichment state machine's worker tasks: start (batch or on demand), poll, results.

``start`` selects the items needing enrichment. At or above the batch minimum it writes the JSONL,
stores the task token under the run (findable by job ARN) before CreateModelInvocationJob, and leaves
the token waiting for the job's completion event (``correlator``) or a poll. Below it, it enriches the
items on demand, emits ``CatalogEnriched`` and answers at once. ``results`` joins the job's output to
its records, retries record errors on demand, writes the enrichments and emits ``CatalogEnriched``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from schemas.envelope import derived_event_id
from schemas.events import CatalogEnriched, RecordError, TokenUsage
from workers.enrichment.models import (
    ENRICHED,
    FAILED_STATUSES,
    JOB_FAILED,
    SUCCESS_STATUSES,
    BatchRecord,
    CatalogItem,
    Enrichment,
    EnrichmentTask,
    JobState,
    PendingRun,
    RunRequest,
    digest,
    task_output,
)
from workers.enrichment.ports import (
    BatchInference,
    BatchRejected,
    Catalog,
    ItemNotFound,
    ObjectStore,
    OnDemandEnricher,
    RunStore,
    TaskCallbacks,
    TaskGone,
)
from workers.enrichment.records import jsonl, one_line, parse_output
from workers.shared.bedrock.errors import BedrockError
from workers.shared.bedrock.pricing import estimate_cost
from workers.shared.bedrock.result import Usage
from workers.shared.bedrock.settings import Pricing
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

INPUT_FILE = "records.jsonl"
RECORDS_FILE = "records.json"


@dataclass(frozen=True)
class RunSettings:
    """Where runs write, when a run goes by batch, and what the batch model costs."""

    bucket: str
    batch_minimum: int
    max_items: int
    pricing: Pricing
    prefix: str = "runs/"


@dataclass
class Tally:
    """What a run did, as ``CatalogEnriched`` reports it."""

    selected: int = 0
    enriched: int = 0
    failed: int = 0
    retried: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    errors: list[RecordError] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def answer_state(callbacks: TaskCallbacks, token: str, state: JobState) -> None:
    """Answer a waiting token with a job's state: a named failure if it failed, else its status."""
    if state.status in FAILED_STATUSES:
        callbacks.fail(token, JOB_FAILED, one_line(state.message or f"the batch job ended {state.status}"))
    else:
        callbacks.succeed(token, task_output(state))


def run_summary(event: CatalogEnriched) -> dict[str, object]:
    """What the last task answers (the execution's output): the run's counts, tokens and cost, no item text."""
    return {
        "status": ENRICHED,
        "event_id": event.event_id,
        "mode": event.mode,
        "items_selected": event.items_selected,
        "items_enriched": event.items_enriched,
        "items_retried": event.items_retried,
        "items_failed": event.items_failed,
        "input_tokens": event.usage.input_tokens,
        "output_tokens": event.usage.output_tokens,
        "cost_usd": event.usage.estimated_cost_usd,
    }


class EnrichmentTasks:
    """Serves the worker tasks of the enrichment state machine."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        runs: RunStore,
        batch: BatchInference,
        enricher: OnDemandEnricher,
        objects: ObjectStore,
        publisher: EventPublisher,
        callbacks: TaskCallbacks,
        settings: RunSettings,
    ) -> None:
        self._catalog = catalog
        self._runs = runs
        self._batch = batch
        self._enricher = enricher
        self._objects = objects
        self._publisher = publisher
        self._callbacks = callbacks
        self._settings = settings

    def process(self, task: EnrichmentTask) -> CatalogEnriched | None:
        """Serve one task message; returns what it published."""
        try:
            if task.step == "start":
                return self._start(task)
            if task.step == "poll":
                self._poll(task)
                return None
            return self._results(task)
        except TaskGone:
            logger.warning("task no longer waits", extra={"step": task.step, "run_id": task.run.run_id})
            return None

    def _run_uri(self, run_id: str, name: str = "") -> str:
        return f"s3://{self._settings.bucket}/{self._settings.prefix}{run_id}/{name}"

    def _start(self, task: EnrichmentTask) -> CatalogEnriched | None:
        items = self._catalog.needing_enrichment(self._settings.max_items)
        logger.info("items selected", extra={"run_id": task.run.run_id, "items": len(items)})
        if items and len(items) >= self._settings.batch_minimum:
            try:
                self._submit(task, items)
                return None
            except BatchRejected as error:
                # Not a reason to skip the night: the same items go on demand (at the on-demand price).
                logger.warning("batch job refused; enriching on demand", extra={"reason": one_line(str(error))})
        tally = Tally(selected=len(items))
        self._enrich_on_demand(task.run.run_id, items, tally, retried=False)
        event = self._finish(task, tally, mode="on_demand", job_arn=None)
        self._callbacks.succeed(task.task_token, run_summary(event))
        return event

    def _submit(self, task: EnrichmentTask, items: Sequence[CatalogItem]) -> None:
        run_id = task.run.run_id
        body, records = jsonl(items)
        input_uri = self._run_uri(run_id, f"input/{INPUT_FILE}")
        output_uri = self._run_uri(run_id, "output/")
        self._objects.put_text(input_uri, body)
        self._objects.put_text(self._run_uri(run_id, RECORDS_FILE), json.dumps([r.model_dump() for r in records]))
        pending = PendingRun(
            run_id=run_id, task_token=task.task_token, input_uri=input_uri, output_uri=output_uri, records=len(records)
        )
        # Stored before the call, so a completion event that outruns our write still finds the token.
        self._runs.put(pending)
        # One job per run and task attempt: a redelivered start gets the same job back.
        arn = self._batch.submit(f"enrich-{run_id}", input_uri, output_uri, digest(run_id, task.task_token, length=64))
        self._runs.put(pending.model_copy(update={"job_arn": arn, "status": "Submitted"}))
        logger.info("batch job submitted", extra={"run_id": run_id, "records": len(records)})

    def _poll(self, task: EnrichmentTask) -> None:
        run = self._runs.get(task.run.run_id)
        if not run.job_arn:
            self._callbacks.fail(task.task_token, JOB_FAILED, "the batch job never started")
            return
        state = self._batch.state(run.job_arn)
        self._runs.set_status(run.run_id, state.status, state.message)
        logger.info("batch job polled", extra={"run_id": run.run_id, "status": state.status})
        answer_state(self._callbacks, task.task_token, state)

    def _results(self, task: EnrichmentTask) -> CatalogEnriched | None:
        run = self._runs.get(task.run.run_id)
        state = self._batch.state(run.job_arn)
        if state.status not in SUCCESS_STATUSES:
            answer_state(self._callbacks, task.task_token, state)
            return None
        records = [
            BatchRecord.model_validate(r)
            for r in json.loads(self._objects.read_text(self._run_uri(run.run_id, RECORDS_FILE)))
        ]
        job_id = run.job_arn.rsplit("/", 1)[-1]
        out = self._objects.read_text(f"{run.output_uri.rstrip('/')}/{job_id}/{INPUT_FILE}.out")
        parsed = parse_output(out.splitlines(), records)
        pricing = self._settings.pricing
        tally = Tally(
            selected=len(records), usage=parsed.usage, cost_usd=estimate_cost(pricing, parsed.usage, batch=True)
        )
        tally.errors.extend(parsed.errors)
        for record in records:
            enrichment = parsed.enriched.get(record.record_id)
            if enrichment is not None:
                self._write(run.run_id, record.item_id, record.content_hash, enrichment, tally)
        retry: list[CatalogItem] = []
        for error in parsed.errors:
            try:
                retry.append(self._catalog.get(error.item_id))
            except ItemNotFound:
                tally.failed += 1  # deleted since selection: nothing to enrich
        self._enrich_on_demand(run.run_id, retry, tally, retried=True)
        self._runs.set_status(run.run_id, state.status, state.message)
        event = self._finish(task, tally, mode="batch", job_arn=run.job_arn)
        self._callbacks.succeed(task.task_token, run_summary(event))
        return event

    def _enrich_on_demand(self, run_id: str, items: Sequence[CatalogItem], tally: Tally, *, retried: bool) -> None:
        for item in items:
            if retried:
                tally.retried += 1
            try:
                enriched = self._enricher.enrich(item)
            except BedrockError as error:
                tally.failed += 1
                if not retried:
                    tally.errors.append(
                        RecordError(
                            record_id=item.item_id,
                            item_id=item.item_id,
                            code=(error.code or type(error).__name__)[:64],
                            message=one_line(str(error)),
                        )
                    )
                continue
            tally.usage += enriched.usage
            tally.cost_usd += enriched.cost_usd
            self._write(run_id, item.item_id, item.content_hash, enriched.enrichment, tally)

    def _write(self, run_id: str, item_id: str, content_hash: str, enrichment: Enrichment, tally: Tally) -> None:
        if self._catalog.write_enrichment(item_id, content_hash, enrichment, run_id):
            tally.enriched += 1
            tally.lines.append(json.dumps({"item_id": item_id, **enrichment.model_dump()}, ensure_ascii=False))
        else:
            # The item changed after it was selected: the next run picks up its new content.
            tally.failed += 1

    def _finish(self, task: EnrichmentTask, tally: Tally, *, mode: str, job_arn: str | None) -> CatalogEnriched:
        run: RunRequest = task.run
        output_uri = self._run_uri(run.run_id, "enriched.jsonl")
        self._objects.put_text(output_uri, "".join(line + "\n" for line in tally.lines))
        event = CatalogEnriched(
            event_id=derived_event_id(digest(task.task_token, length=64), CatalogEnriched.detail_type),
            correlation_id=run.correlation_id or run.run_id,
            tenant_id=run.tenant_id,
            run_id=run.run_id,
            mode="batch" if mode == "batch" else "on_demand",
            output_uri=output_uri,
            items_enriched=tally.enriched,
            items_failed=tally.failed,
            items_selected=tally.selected,
            items_retried=tally.retried,
            job_arn=job_arn,
            record_errors=tally.errors[:100],
            usage=TokenUsage(
                input_tokens=tally.usage.input_tokens,
                output_tokens=tally.usage.output_tokens,
                estimated_cost_usd=round(tally.cost_usd, 8),
            ),
        )
        self._publisher.publish([event])
        logger.info(
            "catalog enriched",
            extra={"run_id": run.run_id, "mode": mode, "enriched": tally.enriched, "failed": tally.failed},
        )
        return event
