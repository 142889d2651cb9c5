"""The enrichment tasks on fakes: batch at or above the minimum, on demand below it, errors retried and reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.bus import BusEvent
from schemas.events import CatalogEnriched
from tests.unit.enrichment.fakes import (
    FAIL_MARKER,
    InMemoryCallbacks,
    InMemoryCatalog,
    InMemoryObjects,
    InMemoryRuns,
    OfflineBatch,
    OnDemandModel,
)
from workers.enrichment.correlator import CompletionCorrelator
from workers.enrichment.models import ENRICHED, JOB_FAILED, JOB_STATE_CHANGE, CatalogItem, EnrichmentTask, RunRequest
from workers.enrichment.tasks import EnrichmentTasks, RunSettings
from workers.shared.bedrock.settings import Pricing
from workers.shared.publisher import InMemoryPublisher

PRICING = Pricing(input_per_mtok=1.0, output_per_mtok=5.0, batch_discount=0.5)
RUN = RunRequest(run_id="enrich-1", correlation_id="enrich-1")


def _items(count: int, broken: set[int] | None = None) -> list[CatalogItem]:
    broken = broken or set()
    return [
        CatalogItem(
            item_id=f"P{i:04d}",
            title=f"Product {i}",
            text=f"A sturdy kettle number {i} for kitchens. {FAIL_MARKER if i in broken else 'Boils fast.'}",
        )
        for i in range(count)
    ]


class Wired:
    """The tasks on fakes that behave like the services."""

    def __init__(self, items: list[CatalogItem], minimum: int = 5, model: OnDemandModel | None = None) -> None:
        self.catalog = InMemoryCatalog(items)
        self.runs = InMemoryRuns()
        self.objects = InMemoryObjects()
        self.batch = OfflineBatch(self.objects)
        self.model = model or OnDemandModel()
        self.publisher = InMemoryPublisher()
        self.callbacks = InMemoryCallbacks()
        self.tasks = EnrichmentTasks(
            catalog=self.catalog,
            runs=self.runs,
            batch=self.batch,
            enricher=self.model,
            objects=self.objects,
            publisher=self.publisher,
            callbacks=self.callbacks,
            settings=RunSettings(bucket="enrich", batch_minimum=minimum, max_items=1000, pricing=PRICING),
        )
        self.correlator = CompletionCorrelator(self.batch, self.runs, self.callbacks)

    def task(self, step: str, token: str) -> EnrichmentTask:
        return EnrichmentTask.model_validate({"taskToken": token, "step": step, "run": RUN.model_dump()})

    def state_change(self, job_arn: str, status: str) -> BusEvent:
        return BusEvent.model_validate(
            {
                "version": "0",
                "id": f"evt-{status}",
                "detail-type": JOB_STATE_CHANGE,
                "source": "aws.bedrock",
                "account": "123456789012",
                "time": datetime.now(UTC).isoformat(),
                "region": "us-east-1",
                "resources": [job_arn],
                "detail": {"batchJobArn": job_arn, "batchJobName": "enrich-1", "status": status},
            }
        )

    def enriched_event(self) -> CatalogEnriched:
        (event,) = self.publisher.published
        assert isinstance(event, CatalogEnriched)
        return event


def test_a_run_below_the_batch_minimum_is_enriched_on_demand_and_answered_at_once() -> None:
    # Given three items needing enrichment and a batch minimum of five
    wired = Wired(_items(3), minimum=5)

    # When the start task runs
    wired.tasks.process(wired.task("start", "tok-start"))

    # Then no job was submitted, every item was enriched on demand and the task answered at once
    assert wired.batch.jobs == {}
    assert sorted(wired.model.calls) == ["P0000", "P0001", "P0002"]
    assert wired.callbacks.succeeded["tok-start"]["status"] == ENRICHED
    event = wired.enriched_event()
    assert (event.mode, event.items_enriched, event.items_failed, event.job_arn) == ("on_demand", 3, 0, None)
    assert event.usage.input_tokens == 600
    assert event.usage.estimated_cost_usd == pytest.approx(0.003)
    assert wired.catalog.needing_enrichment(100) == []


def test_a_run_at_the_batch_minimum_submits_a_job_and_leaves_the_token_waiting() -> None:
    # Given five items and a batch minimum of five
    wired = Wired(_items(5), minimum=5)

    # When the start task runs
    wired.tasks.process(wired.task("start", "tok-start"))

    # Then one job was submitted with one JSONL record per item, and nobody answered the token yet
    (arn,) = wired.batch.jobs
    run = wired.runs.get("enrich-1")
    assert (run.job_arn, run.task_token, run.records) == (arn, "tok-start", 5)
    assert len(wired.objects.read_text(run.input_uri).splitlines()) == 5
    assert wired.callbacks.succeeded == {} and wired.model.calls == []


def test_the_completion_event_resumes_the_run_by_job_arn_and_results_retry_a_record_error_on_demand() -> None:
    # Given a batch run whose job answers all records but one
    wired = Wired(_items(6, broken={4}), minimum=5)
    wired.tasks.process(wired.task("start", "tok-start"))
    (arn,) = wired.batch.jobs
    wired.batch.run(arn)

    # When the job's state changes arrive (InProgress, then PartiallyCompleted) and the results task runs
    wired.correlator.process(wired.state_change(arn, "InProgress"))
    assert wired.callbacks.succeeded == {}
    wired.correlator.process(wired.state_change(arn, "PartiallyCompleted"))
    wired.tasks.process(wired.task("results", "tok-results"))

    # Then the waiting start task was answered, the errored record retried on demand and reported
    assert wired.callbacks.succeeded["tok-start"]["status"] == "PartiallyCompleted"
    assert wired.model.calls == ["P0004"]
    event = wired.enriched_event()
    assert (event.mode, event.items_selected, event.items_enriched, event.items_retried) == ("batch", 6, 6, 1)
    assert event.items_failed == 0 and event.job_arn == arn
    assert [(e.item_id, e.code) for e in event.record_errors] == [("P0004", "500")]
    # And five records were priced at the batch discount, the retried one at the on-demand price
    batch_cost = (5 * 100 * 1.0 + 5 * 50 * 5.0) * 0.5 / 1_000_000
    assert event.usage.estimated_cost_usd == pytest.approx(batch_cost + 0.001)
    assert event.usage.input_tokens == 5 * 100 + 200
    # And each item carries the enrichment computed from its own text (joined on recordId, not position)
    for item_id, enrichment in wired.catalog.enrichments.items():
        assert enrichment.summary.startswith(f"A sturdy kettle number {int(item_id[1:])} ")


def test_a_retried_record_that_fails_again_is_counted_failed_and_still_reported() -> None:
    # Given a batch run with a record error whose on-demand retry fails too
    wired = Wired(_items(5, broken={2}), minimum=5, model=OnDemandModel(broken=frozenset({"P0002"})))
    wired.tasks.process(wired.task("start", "tok-start"))
    (arn,) = wired.batch.jobs
    wired.batch.run(arn)

    # When the results task runs
    wired.tasks.process(wired.task("results", "tok-results"))

    # Then the item is failed, still reported, and still needs enrichment next night
    event = wired.enriched_event()
    assert (event.items_enriched, event.items_failed, event.items_retried) == (4, 1, 1)
    assert [e.item_id for e in event.record_errors] == ["P0002"]
    assert [i.item_id for i in wired.catalog.needing_enrichment(100)] == ["P0002"]


def test_a_lost_completion_event_is_recovered_by_polling() -> None:
    # Given a submitted job whose completion event never arrives
    wired = Wired(_items(5), minimum=5)
    wired.tasks.process(wired.task("start", "tok-start"))
    (arn,) = wired.batch.jobs

    # When a poll runs while it is in progress, and again once it completed
    wired.tasks.process(wired.task("poll", "tok-poll-1"))
    wired.batch.run(arn)
    wired.tasks.process(wired.task("poll", "tok-poll-2"))

    # Then each poll answers the job's status, the last one Completed
    assert wired.callbacks.succeeded["tok-poll-1"]["status"] == "Submitted"
    assert wired.callbacks.succeeded["tok-poll-2"]["status"] == "Completed"
    assert wired.runs.get("enrich-1").status == "Completed"


def test_a_failed_job_fails_the_waiting_task_with_its_message() -> None:
    # Given a submitted job that fails
    wired = Wired(_items(5), minimum=5)
    wired.tasks.process(wired.task("start", "tok-start"))
    (arn,) = wired.batch.jobs
    wired.batch.run(arn, fail_with="Access denied to s3://enrich/runs/enrich-1/input/records.jsonl\nby the role")

    # When its Failed state change arrives
    wired.correlator.process(wired.state_change(arn, "Failed"))

    # Then the start task fails by name with the job's message on one line
    error, cause = wired.callbacks.failed["tok-start"]
    assert error == JOB_FAILED
    assert cause == "Access denied to s3://enrich/runs/enrich-1/input/records.jsonl by the role"


def test_a_state_change_of_a_job_we_do_not_follow_is_ignored() -> None:
    # Given no run waiting on this job
    wired = Wired(_items(1))

    # When its completion arrives
    wired.correlator.process(wired.state_change("arn:aws:bedrock:us-east-1:1:model-invocation-job/other", "Completed"))

    # Then nothing was answered
    assert wired.callbacks.succeeded == {} and wired.callbacks.failed == {}


def test_an_item_changed_after_selection_is_not_marked_enriched() -> None:
    # Given a batch run in flight and one item edited meanwhile
    wired = Wired(_items(5), minimum=5)
    wired.tasks.process(wired.task("start", "tok-start"))
    (arn,) = wired.batch.jobs
    wired.batch.run(arn)
    wired.catalog.put_items([CatalogItem(item_id="P0001", title="Product 1", text="A new text for this kettle.")])

    # When the results are written
    wired.tasks.process(wired.task("results", "tok-results"))

    # Then the edited item is not enriched from its old text and is selected again next time
    assert wired.enriched_event().items_enriched == 4
    assert [i.item_id for i in wired.catalog.needing_enrichment(100)] == ["P0001"]
