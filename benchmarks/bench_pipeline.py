"""End to end: tickets per second through the whole chain, next to the emulator's raw single-hop rate.

``ratio`` = tickets/s ÷ (raw hops/s ÷ hops per ticket): 1.0 would mean the pipeline moves tickets as
fast as the emulator's SQS alone could carry their hops; the gap is the workers, the bus and the
model. ``python -m benchmarks.bench_pipeline --tickets N`` (default 300).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.bench_sqs_emulator import raw_hops_per_s
from supportflow.local import EmulatedStack
from supportflow.local.run import RunResult, generate_tickets, run_tickets, summarise

DEFAULT_TICKETS = 300


def queue_targets(stack: EmulatedStack) -> list[tuple[dict[str, Any], str]]:
    """(event pattern, worker queue URL) for every bus rule that feeds a queue a worker polls."""
    events = stack.clients.events
    bus = stack.physical_id("EventBus")
    polled = {w.queue_url for w in stack.workers.values()}
    by_arn = {
        str(info.attributes.get("Arn")): str(info.physical_id)
        for info in stack.resources.values()
        if info.type == "AWS::SQS::Queue" and info.physical_id
    }
    found = []
    for rule in events.list_rules(EventBusName=bus, Limit=100).get("Rules", []):
        pattern = json.loads(rule.get("EventPattern") or "{}")
        for target in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets", []):
            url = by_arn.get(target["Arn"])
            if url in polled:
                found.append((pattern, str(url)))
    return found


def hops_per_ticket(result: RunResult, targets: list[tuple[dict[str, Any], str]]) -> float:
    """SQS hops (bus event → worker queue → worker) per ticket, from the events the run really saw."""
    hops = 0
    for events in result.ledger.by_ticket.values():
        for detail_type, seen in events.items():
            routed = sum(1 for pattern, _url in targets if _matches(pattern, detail_type))
            hops += routed * len(seen)
    return hops / len(result.tickets) if result.tickets else 0.0


def _matches(pattern: dict[str, Any], detail_type: str) -> bool:
    wanted = pattern.get("detail-type")
    return wanted is None or detail_type in wanted


def run(results: dict[str, Any], tickets: int = DEFAULT_TICKETS) -> None:
    """Boot the stack, measure the raw hop rate, run ``tickets`` tickets, fill ``results['pipeline']``."""
    log_dir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    with EmulatedStack.start(stage="bench", log_dir=log_dir) as stack:
        raw = raw_hops_per_s(stack.clients.sqs)
        result = run_tickets(stack, generate_tickets(tickets, seed=1), timeout=max(300.0, tickets * 3.0))
        hops = hops_per_ticket(result, queue_targets(stack))
    summary = summarise(result)
    # To the last ticket's end: the settle time after it is the report's, not the pipeline's.
    seconds = max(result.finished.values(), default=result.seconds)
    tickets_per_s = len(result.finished) / seconds if seconds else 0.0
    results["pipeline"] = {
        "tickets": tickets,
        "finished": len(result.finished),
        "seconds": round(seconds, 2),
        "tickets_per_s": round(tickets_per_s, 2),
        "raw_hops_per_s": round(raw, 1),
        "hops_per_ticket": round(hops, 2),
        "ratio": round(tickets_per_s / (raw / hops), 4) if raw and hops else None,
        "lost": summary["lost"],
        "duplicates": summary["duplicates"],
        "stages_deployed": summary["stages_deployed"],
        "stage_latency_ms": summary["stage_latency_ms"],
    }


def main(results: dict[str, Any] | None = None, tickets: int = DEFAULT_TICKETS) -> None:
    """Print the end-to-end figures; fill ``results`` if given."""
    results = {} if results is None else results
    run(results, tickets)
    figures = results["pipeline"]
    print(
        f"{figures['finished']}/{figures['tickets']} tickets in {figures['seconds']:.1f} s: "
        f"{figures['tickets_per_s']:.2f} tickets/s through {', '.join(figures['stages_deployed'])}"
    )
    print(
        f"raw single hop {figures['raw_hops_per_s']:.0f} msg/s, {figures['hops_per_ticket']:.1f} hops per ticket"
        f" -> ratio {figures['ratio']}  (lost {figures['lost']}, duplicates {figures['duplicates']})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)
    main(tickets=parser.parse_args().tickets)
