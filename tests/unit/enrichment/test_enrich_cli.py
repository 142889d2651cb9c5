"""``supportflow enrich``: the one line a run ends with, and the sample catalog it seeds."""

from __future__ import annotations

import json

from supportflow.enrich_cli import SAMPLE_CATALOG, load_catalog, local_resources, outcome


def test_a_batch_run_ends_with_its_counts_tokens_and_cost() -> None:
    # Given a run that succeeded through the batch path (the results task's answer is in $.result)
    summary = {
        "status": "Enriched",
        "mode": "batch",
        "items_selected": 348,
        "items_enriched": 347,
        "items_retried": 2,
        "items_failed": 1,
        "input_tokens": 120000,
        "output_tokens": 40000,
        "cost_usd": 0.16,
    }
    described = {"status": "SUCCEEDED", "output": json.dumps({"job": {"status": "Completed"}, "result": summary})}

    # Then its line says so
    assert outcome(described) == (
        "enriched 347 of 348 items batch (retried 2, failed 1), tokens 120000 in / 40000 out, $0.1600"
    )


def test_a_failed_job_says_why_in_one_line() -> None:
    # Given a run whose batch job failed with a multi-line message
    described = {"status": "FAILED", "error": "BatchJobFailed", "cause": "Access denied\n to s3://b/runs/x/input"}

    # Then the line names the error and the job's reason on one line
    assert outcome(described) == "failed: BatchJobFailed: Access denied to s3://b/runs/x/input"


def test_the_sample_catalog_holds_a_few_hundred_unique_products_and_help_items() -> None:
    # When the shipped sample catalog is read
    items = load_catalog(SAMPLE_CATALOG)

    # Then its ids are unique and both kinds are there, above AWS's batch minimum of 100
    assert len(items) > 100
    assert len({item.item_id for item in items}) == len(items)
    assert {item.kind for item in items} == {"product", "help"}


def test_local_names_follow_the_template() -> None:
    # Then the local stack's names are the template's TableName / Name with the stage
    resources = local_resources("dev", "us-east-1")
    assert (resources.catalog_table, resources.runs_table) == (
        "supportflow-dev-catalog",
        "supportflow-dev-enrichment-runs",
    )
    assert resources.state_machine_arn.endswith(":stateMachine:supportflow-dev-enrichment")
