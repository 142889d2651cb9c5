"""The run report: a JSON-able summary (``--report FILE``) and the same as readable text."""

from __future__ import annotations

from collections import Counter
from typing import Any

from supportflow.local.run.costs import cost_report
from supportflow.local.run.feedback import feedback_counts
from supportflow.local.run.ledger import Ledger, duplicates, outcome, stage_latency_ms, tally, usage
from supportflow.local.run.runner import RunResult

_END_OF = {"accepted": "completed", "rejected": "rejected"}
ESCALATION_ENDS = ("approved", "rejected", "timed_out", "failed")


def drafts(ledger: Ledger) -> dict[str, int]:
    """Tickets with a reply drafted to send, how many of those were grounded, and drafts for approval."""
    replies = [d for d in (ledger.reply_draft(t) for t in ledger.by_ticket) if d is not None]
    for_approval = [d for d in (ledger.escalation_draft(t) for t in ledger.by_ticket) if d is not None]
    return {
        "drafted": len(replies),
        "grounded": sum(1 for d in replies if d.detail.get("grounded")),
        "drafted_for_escalation": len(for_approval),
        "grounded_for_escalation": sum(1 for d in for_approval if d.detail.get("grounded")),
    }


def escalation_counts(ledger: Ledger) -> dict[str, int]:
    """Escalations requested, and how each ended (approved, with edits, rejected, timed out, failed)."""
    resolved = [e for e in (ledger.first(t, "EscalationResolved") for t in ledger.by_ticket) if e is not None]
    ends = Counter(str(e.detail.get("decision")) for e in resolved)
    counts = {"requested": sum(1 for t in ledger.by_ticket if ledger.first(t, "EscalationRequested") is not None)}
    counts.update({end: ends.get(end, 0) for end in ESCALATION_ENDS})
    counts["approved_with_edits"] = sum(1 for e in resolved if e.detail.get("edited"))
    counts["supervisor_asked"] = sum(1 for e in resolved if e.detail.get("supervisor_escalated"))
    return counts


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
    accepted = sum(1 for t in result.tickets if ledger.first(t.ticket_id, "TicketAccepted") is not None)
    drafted = drafts(ledger)
    feedback = feedback_counts(result.feedback) if result.feedback is not None else None
    if feedback is not None:
        # A feedback file without an outcome is lost, one analysed twice a duplicate, like a ticket.
        lost_tickets += feedback["lost_items"]
        doubled = [*doubled, *feedback["duplicate_items"]]
        wrong += feedback["unexpected"]
    if result.enrichment is not None and result.enrichment["status"] != "succeeded":
        wrong.append(f"enrichment run ended {result.enrichment['status']}: {result.enrichment['error']}")
    return {
        "submitted": len(result.tickets),
        # Reached the end of its path: drafted (and merged, notified), or escalated and resolved.
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
        "drafted": drafted["drafted"],
        "grounded": drafted["grounded"],
        "drafts_for_escalation": {
            "drafted": drafted["drafted_for_escalation"],
            "grounded": drafted["grounded_for_escalation"],
        },
        "escalations": escalation_counts(ledger),
        "approver": result.approver.as_dict() if result.approver else None,
        # Per accepted ticket: a rejected one never reaches a model.
        **cost_report(ledger, accepted),
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
        "feedback": feedback,
        "enrichment": result.enrichment,
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
                "end": _path_end(ledger, tid),
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
    lines.append(
        f"tokens {summary['tokens']}  cost ${summary['cost_usd']:.4f}  per ticket ${summary['cost_per_ticket_usd']:.5f}"
        f"  per 1,000 tickets ${summary['cost_per_1000_tickets_usd']:.2f}  ("
        + ", ".join(f"{k} ${v['per_1000_tickets_usd']:.2f}" for k, v in summary["cost_by_stage"].items())
        + ")"
    )
    lines.append(f"drafted {summary['drafted']} (grounded {summary['grounded']})")
    lines.append("escalations: " + ", ".join(f"{k} {v}" for k, v in summary["escalations"].items()))
    for name in ("intents", "sentiments", "notifications", "crm_records", "worker_restarts", "dlq_by_queue"):
        if summary[name]:
            lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in summary[name].items()))
    lines.extend(_extras(summary))
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


def _extras(summary: dict[str, Any]) -> list[str]:
    """The feedback and enrichment lines, when the run had them."""
    lines = []
    feedback = summary.get("feedback")
    if feedback:
        lines.append(
            "feedback: submitted {submitted}  analyzed {analyzed}  failed {failed}".format(**feedback)
            + f"  ({', '.join(feedback['kinds'])})"
        )
    enrichment = summary.get("enrichment")
    if enrichment:
        lines.append(
            f"enrichment: {enrichment['status']}  items {enrichment['items']} of {enrichment['seeded']} seeded"
            f"  mode {enrichment['mode'] or '-'}  tokens {enrichment['tokens']}  cost ${enrichment['cost_usd']:.4f}"
            + (f"  error {enrichment['error']}" if enrichment["error"] else "")
        )
    return lines


def _path_end(ledger: Ledger, ticket: str) -> str:
    resolved = ledger.first(ticket, "EscalationResolved")
    if resolved is not None:
        return f"esc:{resolved.detail.get('decision')}" + ("+edit" if resolved.detail.get("edited") else "")
    draft = ledger.reply_draft(ticket)
    if draft is not None:
        return "drafted" if draft.detail.get("grounded") else "drafted:ungrounded"
    return "esc:waiting" if ledger.first(ticket, "EscalationRequested") else "-"


def _table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    header = "  ".join(c.ljust(widths[c]) for c in columns)
    lines = [header, "  ".join("-" * widths[c] for c in columns)]
    lines.extend("  ".join(r.get(c, "").ljust(widths[c]) for c in columns) for r in rows)
    return "\n".join(lines)
