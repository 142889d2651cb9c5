"""Nightly enrichment on the embedded stack: batch above the minimum, on demand below, errors retried, events lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.bedrock_offline.batch_records import RECORD_ERROR_MARKER
from supportflow.enrich_cli import Clients, EnrichResources, enrich_now
from tests.integration.enrichment.conftest import BATCH_MINIMUM, EnrichmentRig
from workers.enrichment.models import CatalogItem

pytestmark = pytest.mark.integration


def _items(prefix: str, count: int, *, broken: int | None = None) -> list[CatalogItem]:
    return [
        CatalogItem(
            item_id=f"{prefix}{i:03d}",
            kind="product",
            category="kitchen",
            title=f"Stainless steel kettle {i}",
            text=(
                f"A stainless steel kettle number {i} that boils a litre in {2 + i % 3} minutes, "
                f"with a limescale filter and a two-year warranty." + (f" {RECORD_ERROR_MARKER}" if i == broken else "")
            ),
        )
        for i in range(count)
    ]


def test_a_run_above_the_batch_minimum_goes_through_a_batch_job_and_retries_its_record_error(
    rig: EnrichmentRig, unique_id: str
) -> None:
    # Given more items than the batch minimum, one of which the batch job will fail to answer
    items = _items("K", BATCH_MINIMUM + 2, broken=3)
    rig.seed(items)

    # When a run starts
    run_id = f"run-{unique_id}"
    execution = rig.finished(rig.start(run_id))

    # Then it went through a batch job, resumed by the job's completion event, and succeeded
    assert execution["status"] == "SUCCEEDED", execution
    entered = rig.states_entered(execution["executionArn"])
    assert "ReadResults" in entered and "PollJob" not in entered
    event = rig.enriched_event(run_id)
    assert event["mode"] == "batch" and event["job_arn"]
    # And the record error was reported and retried on demand: every item is enriched
    assert [(e["item_id"], e["code"]) for e in event["record_errors"]] == [("K003", "500")]
    assert (event["items_selected"], event["items_enriched"], event["items_retried"], event["items_failed"]) == (
        BATCH_MINIMUM + 2,
        BATCH_MINIMUM + 2,
        1,
        0,
    )
    assert event["usage"]["input_tokens"] > 0 and event["usage"]["estimated_cost_usd"] > 0
    assert rig.catalog.needing_enrichment(100) == []
    stored = rig.stack.clients.dynamodb.get_item(TableName=rig.table, Key={"item_id": {"S": "K001"}})
    assert stored["Item"]["enrichment"]["M"]["tags"]["L"]


def test_a_run_below_the_batch_minimum_is_enriched_on_demand(rig: EnrichmentRig, unique_id: str) -> None:
    # Given fewer items than the batch minimum
    rig.seed(_items("S", BATCH_MINIMUM - 2))

    # When a run starts
    run_id = f"run-{unique_id}"
    execution = rig.finished(rig.start(run_id))

    # Then it finished without a batch job, every item enriched on demand
    assert execution["status"] == "SUCCEEDED", execution
    assert "ReadResults" not in rig.states_entered(execution["executionArn"])
    event = rig.enriched_event(run_id)
    assert (event["mode"], event["job_arn"], event["items_enriched"]) == ("on_demand", None, BATCH_MINIMUM - 2)
    assert event["usage"]["output_tokens"] > 0
    assert rig.catalog.needing_enrichment(100) == []


@pytest.mark.parametrize("rig", [3], indirect=True)
def test_a_lost_completion_event_is_recovered_by_polling(rig: EnrichmentRig, unique_id: str) -> None:
    # Given a batch run whose job events are all lost, and a 3 s wait for them
    rig.seed(_items("L", BATCH_MINIMUM))
    rig.stack.bedrock.drop_job_events()

    # When the run starts
    run_id = f"run-{unique_id}"
    execution = rig.finished(rig.start(run_id))

    # Then the wait timed out into polling, which found the job completed and the run finished
    assert execution["status"] == "SUCCEEDED", execution
    entered = rig.states_entered(execution["executionArn"])
    assert "PollJob" in entered and entered[-1] == "Enriched"
    event = rig.enriched_event(run_id)
    assert (event["mode"], event["items_enriched"]) == ("batch", BATCH_MINIMUM)


def test_enrich_now_seeds_a_catalog_and_follows_the_run_and_its_batch_job_to_the_end(
    rig: EnrichmentRig, tmp_path: Path
) -> None:
    # Given a catalog file above the batch minimum, loaded as `supportflow enrich --now --seed FILE` does
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("".join(item.model_dump_json() + "\n" for item in _items("C", BATCH_MINIMUM + 1)))
    stack = rig.stack
    clients = Clients(stack.clients.dynamodb, stack.clients.stepfunctions)
    resources = EnrichResources(rig.table, stack.physical_id("EnrichmentRunsTable"), rig.machine_arn)
    lines: list[str] = []

    # When a run is started and followed
    code = enrich_now(clients, resources, lines.append, seed_from=catalog, now=True, timeout=120)

    # Then it showed the run's states and its batch job's states until the end, then one summary line
    assert code == 0, lines
    assert lines[0] == f"catalog: {BATCH_MINIMUM + 1} items read, {BATCH_MINIMUM + 1} new or changed"
    assert any(line.startswith("  batch job ") and line.endswith(": Completed") for line in lines), lines
    assert "  ReadResults" in lines
    assert lines[-1].startswith(f"enriched {BATCH_MINIMUM + 1} of {BATCH_MINIMUM + 1} items batch (retried 0"), lines
    assert rig.catalog.needing_enrichment(10) == []
