"""The run report: a JSON-able summary (``--report FILE``) and the same as readable text."""

from __future__ import annotations

from collections import Counter
from typing import Any

from supportflow.local.run.ledger import duplicates, outcome, stage_latency_ms, tally, usage
from supportflow.local.run.runner import RunResult

_END_OF = {"accepted": "completed", "rejected": "rejected"}


def summarise(result: RunResult) -> dict[str, Any]:
    """Every figure of the report; ``lost`` and ``duplicates`` must be 0."""
    ledger = result.ledger
    outcomes = {t.ticket_id: outcome(ledger, t.ticket_id) for t in result.tickets}
    finished = set(result.finished)
    lost_tickets = sorted(t for t in outcomes if t not in finished)
    poison_sent = set(result.chaos.poison) if result.chaos else set()
    lost_poison = sorted(poison_sent - ledger.poison_dead)
    wrong = sorted(
        t.ticket_id
        for t in result.tickets
        # A real ticket in a DLQ is not lost (redrive brings it back) but is not a good end either.
        if t.ticket_id in finished and outcomes[t.ticket_id] != _END_OF[t.expected]
    )
    doubled = duplicates(ledger)
    tokens, cost = usage(ledger)
    analyzed = [ledger.first(t, "TicketAnalyzed") for t in ledger.by_ticket]
    escalations = {
        a.detail.get("ticket_id"): list(a.detail.get("escalation_reasons") or [])
        for a in analyzed
        if a is not None and a.detail.get("needs_escalation")
    }
    notifications = Counter(
        str(n.detail.get("audience"))
        for events in ledger.by_ticket.values()
        for n in events.get("NotificationSent", [])
    )
    crm_updates = [t for t in ledger.by_ticket if ledger.first(t, "CrmRecordUpdated") is not None]
    dead_tickets = sorted(ledger.dead_tickets)
    return {
        "submitted": len(result.tickets),
        "completed": sum(1 for o in outcomes.values() if o == "completed"),
        "rejected": sum(1 for o in outcomes.values() if o == "rejected"),
        "dlq": len(dead_tickets) + len(ledger.poison_dead),
        # Tickets with an event in a DLQ, completed or not (a stage not tracked here may have failed it).
        "dlq_tickets": {t: sorted(ledger.dead_letter_queues.get(t, ())) for t in dead_tickets},
        "dlq_by_queue": result.dead_letters,
        "poison_sent": len(poison_sent),
        "poison_in_dlq": len(ledger.poison_dead & poison_sent),
        "lost": len(lost_tickets) + len(lost_poison),
        "lost_items": lost_tickets + lost_poison,
        "duplicates": len(doubled),
        "duplicate_items": doubled,
        "unexpected_outcomes": wrong,
        "stages_deployed": result.deployed,
        "stages_not_deployed": result.not_deployed,
        "stage_latency_ms": stage_latency_ms(ledger),
        "tokens": tokens,
        "cost_usd": cost,
        "intents": tally(ledger, "TicketClassified", "intent"),
        "sentiments": tally(ledger, "SentimentAnalyzed", "label"),
        "priorities": tally(ledger, "TicketAccepted", "priority"),
        "languages": tally(ledger, "TicketAccepted", "language"),
        "crm_records": {"updated_tickets": len(crm_updates), "cases": sum(len(c) for c in ledger.crm_cases.values())},
        "notifications": dict(notifications),
        "sns_messages": dict(Counter(m.audience for m in ledger.sns)),
        "escalation_candidates": escalations,
        "worker_restarts": result.restarts,
        "chaos": result.chaos.as_dict() if result.chaos else None,
        "seconds": round(result.seconds, 2),
        "tickets_per_s": round(len(result.tickets) / result.seconds, 2) if result.seconds else 0.0,
    }


def render(summary: dict[str, Any], result: RunResult) -> str:
    """The report as text: one row per ticket, then the totals."""
    ledger = result.ledger
    rows = []
    for ticket in result.tickets:
        first = ledger.first
        tid = ticket.ticket_id
        accepted, classified = first(tid, "TicketAccepted"), first(tid, "TicketClassified")
        sentiment, analyzed = first(tid, "SentimentAnalyzed"), first(tid, "TicketAnalyzed")
        rows.append(
            {
                "ticket": tid,
                "kind": ticket.kind,
                "tier": ticket.tier,
                "outcome": outcome(ledger, tid),
                "priority": str(accepted.detail.get("priority")) if accepted else "-",
                "lang": str(accepted.detail.get("language")) if accepted else "-",
                "intent": str(classified.detail.get("intent")) if classified else "-",
                "sentiment": str(sentiment.detail.get("label")) if sentiment else "-",
                "escalate": ("yes" if analyzed.detail.get("needs_escalation") else "no") if analyzed else "-",
                "crm": "yes" if first(tid, "CrmRecordUpdated") else "-",
                "notified": ",".join(
                    sorted({str(n.detail.get("audience")) for n in ledger.by_ticket[tid].get("NotificationSent", [])})
                )
                or "-",
                "s": f"{result.finished[tid]:.1f}" if tid in result.finished else "-",
            }
        )
    lines = [_table(rows), ""]
    lines.append(
        "submitted {submitted}  completed {completed}  rejected {rejected}  dlq {dlq}  "
        "lost {lost}  duplicates {duplicates}".format(**summary)
    )
    lines.append(f"stages deployed: {', '.join(summary['stages_deployed'])}")
    if summary["stages_not_deployed"]:
        lines.append(f"not deployed (skipped): {', '.join(summary['stages_not_deployed'])}")
    latency = summary["stage_latency_ms"]
    lines.append(
        "latency ms (p50/p95): " + "  ".join(f"{stage} {v['p50']:.0f}/{v['p95']:.0f}" for stage, v in latency.items())
    )
    lines.append(f"tokens {summary['tokens']}  cost ${summary['cost_usd']:.4f}")
    for name in ("intents", "sentiments", "notifications", "crm_records", "worker_restarts", "dlq_by_queue"):
        if summary[name]:
            lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in summary[name].items()))
    if summary["escalation_candidates"]:
        lines.append(f"escalation candidates: {len(summary['escalation_candidates'])}")
    if summary["chaos"]:
        lines.append("chaos: " + ", ".join(f"{k} {v}" for k, v in summary["chaos"].items() if k != "killed"))
    lines.append(f"{summary['seconds']:.1f} s, {summary['tickets_per_s']:.1f} tickets/s")
    for item in summary["lost_items"]:
        lines.append(f"LOST {item}")
    for item in summary["duplicate_items"]:
        lines.append(f"DUPLICATE {item}")
    for item in summary["unexpected_outcomes"]:
        lines.append(f"UNEXPECTED {item}")
    return "\n".join(lines)


def _table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    header = "  ".join(c.ljust(widths[c]) for c in columns)
    lines = [header, "  ".join("-" * widths[c] for c in columns)]
    lines.extend("  ".join(r.get(c, "").ljust(widths[c]) for c in columns) for r in rows)
    return "\n".join(lines)
