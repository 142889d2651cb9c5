"""``supportflow run`` in process on the session's stack: every ticket has an end, nothing lost or doubled."""

from __future__ import annotations

import pytest

from supportflow.local import EmulatedStack
from supportflow.local.run import generate_tickets, run_tickets, summarise

pytestmark = pytest.mark.integration


def test_a_small_run_loses_nothing_and_does_nothing_twice(local_stack: EmulatedStack, unique_id: str) -> None:
    # Given twelve realistic tickets, the crafted ones among them, and four feedback files (one unreadable)
    tickets = generate_tickets(12, seed=5, run_tag=unique_id)
    # When they run through the stack, with one enrichment run over a small catalog slice
    result = run_tickets(local_stack, tickets, timeout=150, feedback=4, enrichment_items=6)
    summary = summarise(result)
    # Then every ticket reached an end, none was lost, no effect happened twice
    assert summary["lost"] == 0, summary["lost_items"]
    assert summary["duplicates"] == 0, summary["duplicate_items"]
    assert summary["submitted"] == 12
    # And the malformed one was rejected at intake, the others accepted and classified
    assert summary["rejected"] == 1
    assert sum(summary["priorities"].values()) == 11
    if "classify" in summary["stages_deployed"]:
        assert sum(summary["intents"].values()) == 11
        assert summary["tokens"] > 0
    # And every accepted ticket reached the end of its path: drafted, or escalated and resolved (auto approves)
    assert summary["completed"] == 11
    assert summary["drafted"] > 0 and summary["grounded"] > 0
    escalations = summary["escalations"]
    assert escalations["requested"] > 0
    assert escalations["approved"] + escalations["rejected"] + escalations["timed_out"] == escalations["requested"]
    assert escalations["approved"] > 0 and escalations["failed"] == 0
    assert summary["drafted"] + escalations["requested"] == 11
    assert summary["cost_per_ticket_usd"] > 0 and "draft" in summary["cost_by_stage"]
    # And the stages are timed between bus deliveries: the ticket record takes time
    assert summary["stage_latency_ms"]["record"]["p95"] > 0
    # And three feedback files were analysed, the unreadable one failed (as expected, not unexpected)
    feedback = summary["feedback"]
    assert (feedback["submitted"], feedback["analyzed"], feedback["failed"]) == (4, 3, 1)
    assert summary["unexpected_outcomes"] == []
    # And the enrichment run enriched its slice on demand (below the batch minimum), with tokens and a cost
    enrichment = summary["enrichment"]
    assert enrichment["status"] == "succeeded" and enrichment["mode"] == "on_demand"
    assert enrichment["items"] >= 6 and enrichment["tokens"] > 0 and enrichment["cost_usd"] > 0


def test_a_chaos_run_still_loses_nothing_and_the_poison_is_in_the_dlqs(
    local_stack: EmulatedStack, unique_id: str
) -> None:
    # Given twenty tickets and chaos: throttles, a killed worker, a CRM outage, poison messages
    tickets = generate_tickets(20, seed=9, run_tag=unique_id)
    # When they run
    result = run_tickets(local_stack, tickets, timeout=180, chaos=True, seed=9)
    summary = summarise(result)
    # Then nothing was lost and nothing done twice
    assert summary["lost"] == 0, summary["lost_items"]
    assert summary["duplicates"] == 0, summary["duplicate_items"]
    # And every poison message ended in a DLQ, the worker killed was restarted, faults really happened
    assert summary["poison_sent"] >= 2
    assert summary["poison_in_dlq"] == summary["poison_sent"]
    assert summary["chaos"]["workers_killed"] == 1
    assert sum(summary["worker_restarts"].values()) >= 1
    if local_stack.bedrock is not None:
        assert summary["chaos"]["bedrock_throttles"] >= 1
    # And the tickets still reached their ends: drafts and resolved escalations, each once
    escalations = summary["escalations"]
    assert summary["drafted"] > 0 and escalations["requested"] > 0
    ended = escalations["approved"] + escalations["rejected"] + escalations["timed_out"] + escalations["failed"]
    assert ended == escalations["requested"]
