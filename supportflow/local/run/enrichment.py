"""The run's enrichment step: a small seeded slice of the sample catalog, one run started as the schedule does.

The slice stays below the batch minimum (template default 100) so the run enriches on demand in seconds
locally; the report says which mode the run took, its tokens and cost at the price it ran.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

from supportflow.enrich_cli import SAMPLE_CATALOG, TERMINAL, load_catalog
from supportflow.local.stack import EmulatedStack
from workers.enrichment.adapters import DynamoCatalog

DEFAULT_ITEMS = 8
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class EnrichmentRun:
    """One started enrichment run: its id, execution and how many items were seeded for it."""

    run_id: str
    execution_arn: str
    seeded: int


def enrichment_deployed(stack: EmulatedStack) -> bool:
    """Whether the stack runs the catalog enrichment (its table and state machine)."""
    needed = ("CatalogTable", "EnrichmentStateMachine")
    return all(name in stack.resources and stack.resources[name].physical_id for name in needed)


def start_enrichment(stack: EmulatedStack, *, items: int, seed: int, run_tag: str) -> EnrichmentRun:
    """Seed ``items`` sample catalog items (ids tagged with the run, so they need enrichment) and start a run."""
    catalog = load_catalog(SAMPLE_CATALOG)
    chosen = random.Random(seed).sample(catalog, min(items, len(catalog)))
    tagged = [item.model_copy(update={"item_id": f"{item.item_id}-{run_tag}"}) for item in chosen]
    seeded = DynamoCatalog(stack.physical_id("CatalogTable"), stack.clients.dynamodb).put_items(tagged)
    run_id = f"run-{run_tag}"
    started = stack.clients.stepfunctions.start_execution(
        stateMachineArn=stack.physical_id("EnrichmentStateMachine"),
        name=run_id,
        input=json.dumps({"run": {"run_id": run_id, "correlation_id": run_id, "tenant_id": "default"}}),
    )
    return EnrichmentRun(run_id, str(started["executionArn"]), seeded)


def finish_enrichment(stack: EmulatedStack, run: EnrichmentRun, *, timeout: float) -> dict[str, Any]:
    """Wait for the run's end (up to ``timeout``); its report section."""
    deadline = time.monotonic() + timeout
    while True:
        described = stack.clients.stepfunctions.describe_execution(executionArn=run.execution_arn)
        if described["status"] in TERMINAL or time.monotonic() > deadline:
            break
        time.sleep(POLL_SECONDS)
    return enrichment_section(dict(described), seeded=run.seeded)


def enrichment_section(described: dict[str, Any], *, seeded: int) -> dict[str, Any]:
    """Items, mode (batch | on_demand), tokens and cost from a described execution (its output)."""
    status = str(described.get("status"))
    output = json.loads(described.get("output") or "{}") if status == "SUCCEEDED" else {}
    summary = output.get("result") or output.get("job") or {}
    return {
        "status": status.lower(),
        "seeded": seeded,
        "items": int(summary.get("items_enriched", 0)),
        "selected": int(summary.get("items_selected", 0)),
        "failed": int(summary.get("items_failed", 0)),
        "mode": summary.get("mode"),
        "tokens": int(summary.get("input_tokens", 0)) + int(summary.get("output_tokens", 0)),
        "cost_usd": round(float(summary.get("cost_usd", 0.0)), 6),
        "error": None if status == "SUCCEEDED" else str(described.get("error") or status),
    }
