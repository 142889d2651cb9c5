"""Submit the tickets to a running local stack, watch every stage, wait for each ticket's end.

A stage whose worker is not deployed (its handler not there yet, or its event source disabled) is
"not deployed" and skipped: a ticket's end is the last deployed stage's event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportflow.local.run.approver import ApproveMode, Approver
from supportflow.local.run.chaos import POISON_MARKER, Chaos, ChaosStats
from supportflow.local.run.enrichment import EnrichmentRun, enrichment_deployed, finish_enrichment, start_enrichment
from supportflow.local.run.feedback import FeedbackLedger, feedback_deployed, plan_feedback, submit_feedback
from supportflow.local.run.ledger import STAGE_WORKERS, Ledger, Route, outcome, ticket_end
from supportflow.local.run.observer import DRAIN_MOST, Observer
from supportflow.local.run.tickets import PlannedTicket
from supportflow.local.stack import PROJECT_ROOT, EmulatedStack

POLL_SECONDS = 0.3
DLQ_POLL_SECONDS = 2.0
APPROVER_POLL_SECONDS = 0.5
FINAL_DRAIN_MOST = 1_000_000  # after the watch: everything still on the taps
SETTLE_SECONDS = 2.0  # after the last end, keep watching for late duplicates
DEFAULT_ROUTES_FILE = PROJECT_ROOT / "workers" / "notify" / "routes.json"
PUT_EVENTS_BATCH = 10
ENRICHMENT_GRACE_SECONDS = 60.0  # after the tickets: how long the enrichment run may still take


@dataclass
class RunResult:
    """What a run observed, plus what the report needs besides the ledger."""

    tickets: list[PlannedTicket]
    ledger: Ledger
    deployed: list[str]
    not_deployed: list[str]
    finished: dict[str, float] = field(default_factory=dict)  # ticket id -> seconds after submission
    restarts: dict[str, int] = field(default_factory=dict)
    chaos: ChaosStats | None = None
    dead_letters: dict[str, int] = field(default_factory=dict)  # DLQ logical id -> messages of this run
    seconds: float = 0.0
    approver: Approver | None = None
    feedback: FeedbackLedger | None = None
    enrichment: dict[str, Any] | None = None

    def unfinished(self) -> list[str]:
        """Tickets that never reached an end."""
        return [t.ticket_id for t in self.tickets if t.ticket_id not in self.finished]


@dataclass(frozen=True)
class Progress:
    """The numbers on the updating progress line."""

    submitted: int
    completed: int
    rejected: int
    dlq: int
    per_stage: dict[str, int]


def deployed_stages(stack: EmulatedStack) -> list[str]:
    """Stages whose worker runs in this stack (by the worker folder its handler lives in)."""
    handlers = [str(w.config.handler) for w in stack.workers.values()]
    return [
        stage
        for stage, (folder, _event) in STAGE_WORKERS.items()
        if any(h.startswith(f"workers.{folder}.") for h in handlers)
    ]


def notification_routes(stack: EmulatedStack) -> list[Route]:
    """The notifier's routes as data (its function's routes file, else the default)."""
    path = DEFAULT_ROUTES_FILE
    for function in stack.functions.values():
        configured = (getattr(function, "environment", None) or {}).get("NOTIFICATION_ROUTES_FILE")
        if configured and (PROJECT_ROOT / configured).exists():
            path = PROJECT_ROOT / configured
    if not Path(path).exists():
        return []
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return [Route(r["detail_type"], r["audience"], r.get("when") or {}) for r in raw.get("routes", [])]


def run_tickets(
    stack: EmulatedStack,
    tickets: Sequence[PlannedTicket],
    *,
    timeout: float = 90.0,
    chaos: bool = False,
    seed: int = 7,
    approve: ApproveMode = "auto",
    progress: Callable[[Progress], None] | None = None,
    feedback: int = 0,
    enrichment_items: int = 0,
) -> RunResult:
    """Submit every ticket (and ``feedback`` files), wait for each end (or ``timeout``); one enrichment run.

    Escalations are decided per ``approve``; ``enrichment_items`` > 0 seeds that many catalog items and
    runs the enrichment once, alongside the tickets.
    """
    deployed = deployed_stages(stack)
    result = RunResult(
        tickets=list(tickets),
        ledger=Ledger(expected={t.ticket_id: t.expected for t in tickets}),
        deployed=deployed,
        not_deployed=[s for s in STAGE_WORKERS if s not in deployed],
    )
    routes = notification_routes(stack) if "notify" in deployed else []
    observer = Observer(stack)
    if "escalation" in deployed:
        result.approver = Approver.for_stack(stack, approve, (t.ticket_id for t in tickets))
    restarts_before = dict(stack.supervisor.restarts)
    injector = None
    if chaos:
        injector = Chaos(stack, tickets=len(tickets), seed=seed, progress=lambda: len(result.finished) / len(tickets))
        injector.send_poison(max(2, len(tickets) // 50), run_tag=tickets[0].ticket_id.split("-")[1])
        injector.start()
    run_tag = tickets[0].ticket_id.rsplit("-", 1)[0].removeprefix("T-")
    started = time.monotonic()
    enrichment: EnrichmentRun | None = None
    try:
        if enrichment_items > 0 and enrichment_deployed(stack):
            enrichment = start_enrichment(stack, items=enrichment_items, seed=seed, run_tag=run_tag)
        if feedback > 0 and feedback_deployed(stack):
            result.feedback = FeedbackLedger(plan_feedback(feedback, run_tag=run_tag))
            submit_feedback(stack, result.feedback.planned)
        _submit(stack, tickets, result.ledger)
        _watch(observer, result, routes=routes, deadline=started + timeout, injector=injector, progress=progress)
    finally:
        if injector is not None:
            injector.stop()
            result.chaos = injector.stats
    if enrichment is not None:
        result.enrichment = finish_enrichment(stack, enrichment, timeout=ENRICHMENT_GRACE_SECONDS)
    result.seconds = time.monotonic() - started
    result.restarts = {
        key: count - restarts_before.get(key, 0)
        for key, count in stack.supervisor.restarts.items()
        if count > restarts_before.get(key, 0)
    }
    _read_crm_cases(stack, result.ledger)
    return result


def _submit(stack: EmulatedStack, tickets: Sequence[PlannedTicket], ledger: Ledger) -> None:
    bus = stack.physical_id("EventBus")
    for start in range(0, len(tickets), PUT_EVENTS_BATCH):
        entries = []
        for ticket in tickets[start : start + PUT_EVENTS_BATCH]:
            detail = {**ticket.event["detail"], "occurred_at": datetime.now(UTC).isoformat()}
            ledger.add_event("TicketSubmitted", str(detail["event_id"]), detail)
            entries.append(
                {
                    "EventBusName": bus,
                    "Source": ticket.event["source"],
                    "DetailType": ticket.event["detail-type"],
                    "Detail": json.dumps(detail),
                }
            )
        response = stack.clients.events.put_events(Entries=entries)  # type: ignore[arg-type]
        if response.get("FailedEntryCount"):
            msg = f"PutEvents rejected {response['FailedEntryCount']} tickets"
            raise RuntimeError(msg)


def _watch(
    observer: Observer,
    result: RunResult,
    *,
    routes: list[Route],
    deadline: float,
    injector: Chaos | None,
    progress: Callable[[Progress], None] | None,
) -> None:
    started = time.monotonic()
    deployed = set(result.deployed)
    next_dlq_poll = next_decision = 0.0
    settle_until: float | None = None
    while time.monotonic() < deadline:
        _observe(observer, result.ledger, result.feedback)
        if time.monotonic() >= next_dlq_poll:
            _observe_dead_letters(observer, result)
            next_dlq_poll = time.monotonic() + DLQ_POLL_SECONDS
        if result.approver is not None and time.monotonic() >= next_decision:
            result.approver.poll()
            next_decision = time.monotonic() + APPROVER_POLL_SECONDS
        for ticket in result.tickets:
            tid = ticket.ticket_id
            end = None if tid in result.finished else ticket_end(result.ledger, tid, deployed, routes)
            if end is not None:
                result.ledger.ends[tid] = end
                result.finished[tid] = time.monotonic() - started
        if progress is not None:
            progress(_progress(result))
        poison_pending = injector is not None and not set(injector.stats.poison) <= result.ledger.poison_dead
        feedback_pending = result.feedback is not None and not result.feedback.ended()
        if len(result.finished) == len(result.tickets) and not poison_pending and not feedback_pending:
            settle_until = settle_until or time.monotonic() + SETTLE_SECONDS
            if time.monotonic() >= settle_until:
                break
        time.sleep(POLL_SECONDS)
    _observe(observer, result.ledger, result.feedback, most=FINAL_DRAIN_MOST)
    _observe_dead_letters(observer, result)


def _observe(
    observer: Observer, ledger: Ledger, feedback: FeedbackLedger | None = None, most: int = DRAIN_MOST
) -> None:
    for event, delivered_at in observer.bus_events(most):
        carried = event.get("detail")
        if isinstance(carried, dict):
            event_id = str(carried.get("event_id") or event.get("id"))
            ledger.add_event(str(event.get("detail-type")), event_id, carried, delivered_at)
            if feedback is not None:
                feedback.observe(str(event.get("detail-type")), event_id, carried)
    for note in observer.notifications(most):
        inner = note.payload.get("detail")
        detail: dict[str, Any] = inner if isinstance(inner, dict) else note.payload
        ticket = ledger.ticket_of(str(note.payload.get("detail-type") or note.payload.get("event_type")), detail)
        if ticket is not None:
            about = (
                note.attributes.get("about_event_id")
                # The notifier's attribute: the id of the event notified (an escalation notifies twice per
                # ticket about two ApprovalRequested events, agents then supervisor: not a duplicate).
                or note.attributes.get("event_id")
                or detail.get("about_event_id")
                or detail.get("event_id")
                or f"{ticket}:{note.payload.get('event_type') or note.payload.get('detail-type')}"
            )
            ledger.add_sns(note.audience, note.message_id, str(about))


def _observe_dead_letters(observer: Observer, result: RunResult) -> None:
    counts: dict[str, int] = {}
    ledger = result.ledger
    for queue, message in observer.dead_letters():
        body: Any = message.json if isinstance(message.json, dict) else {}
        if POISON_MARKER in body:
            ledger.poison_dead.add(str(body[POISON_MARKER]))
        else:
            detail = body.get("detail") if isinstance(body.get("detail"), dict) else {}
            ticket = ledger.ticket_of(str(body.get("detail-type")), detail)
            if ticket is None:
                continue
            ledger.dead_tickets.add(ticket)
            ledger.dead_letter_queues.setdefault(ticket, set()).add(queue)
        counts[queue] = counts.get(queue, 0) + 1
    result.dead_letters = counts


def _progress(result: RunResult) -> Progress:
    ledger = result.ledger
    outcomes = [outcome(ledger, t) for t in result.finished]
    per_stage = {
        stage: sum(1 for t in ledger.by_ticket if ledger.first(t, event) is not None)
        for stage, (_folder, event) in STAGE_WORKERS.items()
        if stage in result.deployed
    }
    return Progress(
        submitted=len(result.tickets),
        completed=outcomes.count("completed"),
        rejected=outcomes.count("rejected"),
        dlq=outcomes.count("dead-lettered") + len(ledger.poison_dead),
        per_stage=per_stage,
    )


def _read_crm_cases(stack: EmulatedStack, ledger: Ledger) -> None:
    """Cases per ticket as the mock CRM stores them (its own table), when the CRM is deployed."""
    if "MockCrmTable" not in stack.resources or stack.resources["MockCrmTable"].physical_id is None:
        return
    dynamodb = stack.clients.client("dynamodb")
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=stack.physical_id("MockCrmTable")):
        for item in page.get("Items", []):
            try:
                record = json.loads(item["data"]["S"])
            except (KeyError, ValueError):
                continue
            ticket = record.get("ticket_id") if isinstance(record, dict) else None
            if ticket in ledger.expected and record.get("case_id"):
                ledger.crm_cases.setdefault(str(ticket), set()).add(str(record["case_id"]))
