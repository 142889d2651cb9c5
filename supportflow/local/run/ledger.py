"""What a run observed, and the arithmetic of its report: outcomes, duplicates, latencies, usage.

Pure code over observations (bus events, SNS messages, CRM cases, dead letters) so the report's
figures can be checked against hand-made observations.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

USAGE_EVENTS = ("TicketClassified", "SentimentAnalyzed", "ResponseDrafted")
# Stage name -> the worker folder under workers/ that runs it and the detail-type that ends it.
STAGE_WORKERS: dict[str, tuple[str, str]] = {
    "intake": ("intake", "TicketAccepted"),
    "classify": ("classify", "TicketClassified"),
    "sentiment": ("sentiment", "SentimentAnalyzed"),
    "record": ("ticket_record", "TicketAnalyzed"),
    "crm": ("crm_update", "CrmRecordUpdated"),
    "notify": ("notify", "NotificationSent"),
    "draft": ("drafting", "ResponseDrafted"),
    "escalation": ("approvals", "EscalationResolved"),
}
# One per ticket: a second one (another event id) is an effect done twice.
ONCE_PER_TICKET = ("TicketAnalyzed", "ResponseDrafted", "EscalationRequested", "EscalationResolved")


@dataclass(frozen=True)
class Route:
    """A notification route as data: events of ``detail_type`` matching ``when`` go to ``audience``."""

    detail_type: str
    audience: str
    when: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def matches(self, detail_type: str, detail: Mapping[str, Any]) -> bool:
        """Whether an event of this type and detail is routed to the audience."""
        if detail_type != self.detail_type:
            return False
        return all(detail.get(name) in accepted for name, accepted in self.when.items())


@dataclass(frozen=True)
class BusEvent:
    """One event seen on the bus, and when the bus delivered it (None until the tap has seen it)."""

    detail_type: str
    event_id: str
    detail: Mapping[str, Any]
    delivered_at: datetime | None = None

    @property
    def occurred_at(self) -> datetime | None:
        """The event's own time (``detail.occurred_at``)."""
        raw = self.detail.get("occurred_at")
        try:
            return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
        except ValueError:
            return None

    @property
    def at(self) -> datetime | None:
        """When the event crossed the bus; its own ``occurred_at`` only when no delivery was observed.

        A producer may copy ``occurred_at`` from its input, so a stage measured on it can read 0.
        """
        return self.delivered_at or self.occurred_at


@dataclass(frozen=True)
class SnsMessage:
    """One SNS notification read back from a topic's subscription: audience, SNS message id, what it is about."""

    audience: str
    message_id: str
    about: str


@dataclass
class Ledger:
    """Everything a run observed, indexed by ticket."""

    expected: dict[str, str] = field(default_factory=dict)  # ticket id -> accepted / rejected
    events: list[BusEvent] = field(default_factory=list)
    sns: list[SnsMessage] = field(default_factory=list)
    crm_cases: dict[str, set[str]] = field(default_factory=dict)  # ticket id -> case ids
    dead_tickets: set[str] = field(default_factory=set)
    dead_letter_queues: dict[str, set[str]] = field(default_factory=dict)  # ticket id -> DLQs holding its events
    ends: dict[str, str] = field(default_factory=dict)  # ticket id -> rejected / completed / dead-lettered
    poison_sent: set[str] = field(default_factory=set)
    poison_dead: set[str] = field(default_factory=set)
    by_ticket: dict[str, dict[str, list[BusEvent]]] = field(default_factory=lambda: defaultdict(dict))
    _ticket_of_event: dict[str, str] = field(default_factory=dict)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _sns_ids: set[str] = field(default_factory=set)

    def add_event(
        self, detail_type: str, event_id: str, detail: Mapping[str, Any], delivered_at: datetime | None = None
    ) -> str | None:
        """Record a bus event; return the ticket it belongs to (None if not one of this run's)."""
        ticket = self.ticket_of(detail_type, detail)
        if ticket is None:
            return None
        event = BusEvent(detail_type, event_id, detail, delivered_at)
        self.events.append(event)
        self._ticket_of_event.setdefault(event_id, ticket)
        kept = self.by_ticket[ticket].setdefault(detail_type, [])
        if (detail_type, event_id) not in self._seen:
            # The same event id delivered again is a redelivery, not a second effect.
            self._seen.add((detail_type, event_id))
            kept.append(event)
        elif delivered_at is not None:
            # Submitted before the tap saw it: keep the first delivery time observed.
            for index, known in enumerate(kept):
                if known.event_id == event_id and known.delivered_at is None:
                    kept[index] = replace(known, delivered_at=delivered_at)
        return ticket

    def add_sns(self, audience: str, message_id: str, about: str) -> None:
        """Record an SNS message read back from a topic (the same SNS message id once)."""
        if message_id not in self._sns_ids:
            self._sns_ids.add(message_id)
            self.sns.append(SnsMessage(audience, message_id, about))

    def ticket_of(self, detail_type: str, detail: Mapping[str, Any]) -> str | None:
        """The run's ticket an event is about, by ticket id, sentiment subject, event it is about, or flow."""
        candidates = [detail.get("ticket_id"), detail.get("correlation_id")]
        if detail_type == "SentimentAnalyzed" and detail.get("subject_kind") == "ticket":
            candidates.insert(0, detail.get("subject_id"))
        about = detail.get("about_event_id")
        if about in self._ticket_of_event:
            candidates.insert(0, self._ticket_of_event[str(about)])
        return next((str(c) for c in candidates if c is not None and str(c) in self.expected), None)

    def first(self, ticket: str, detail_type: str) -> BusEvent | None:
        """The first event of this type seen for the ticket."""
        found = self.by_ticket.get(ticket, {}).get(detail_type)
        return found[0] if found else None

    def reply_draft(self, ticket: str) -> BusEvent | None:
        """The ticket's draft to send (not one drafted for an escalation's approval)."""
        drafts = self.by_ticket.get(ticket, {}).get("ResponseDrafted", [])
        return next((d for d in drafts if not d.detail.get("for_escalation")), None)

    def escalation_draft(self, ticket: str) -> BusEvent | None:
        """The draft the escalation asked for, for a human to approve."""
        drafts = self.by_ticket.get(ticket, {}).get("ResponseDrafted", [])
        return next((d for d in drafts if d.detail.get("for_escalation")), None)

    def merged_into_crm(self, ticket: str, event: BusEvent) -> bool:
        """Whether a CrmRecordUpdated about ``event`` was seen."""
        updates = self.by_ticket.get(ticket, {}).get("CrmRecordUpdated", [])
        return any(u.detail.get("about_event_id") == event.event_id for u in updates)


def expected_audiences(routes: Iterable[Route], detail_type: str, detail: Mapping[str, Any]) -> set[str]:
    """Audiences a notifier routes this event to."""
    return {route.audience for route in routes if route.matches(detail_type, detail)}


def ticket_end(ledger: Ledger, ticket: str, deployed: set[str], routes: Sequence[Route]) -> str | None:
    """The ticket's end once reached: rejected, completed (every deployed stage) or dead-lettered; else None."""
    rejected = ledger.first(ticket, "TicketRejected")
    if rejected is not None:
        return "rejected" if _notified(ledger, ticket, rejected, deployed, routes) else None
    if ledger.first(ticket, "TicketAccepted") is not None and _through_every_stage(ledger, ticket, deployed, routes):
        return "completed"
    # Checked last: a completed ticket whose event also failed in a stage not tracked here is still completed.
    return "dead-lettered" if ticket in ledger.dead_tickets else None


def ticket_done(ledger: Ledger, ticket: str, deployed: set[str], routes: Sequence[Route]) -> bool:
    """Whether the ticket has reached an end (see :func:`ticket_end`)."""
    return ticket_end(ledger, ticket, deployed, routes) is not None


def _through_every_stage(ledger: Ledger, ticket: str, deployed: set[str], routes: Sequence[Route]) -> bool:
    for stage in ("classify", "sentiment", "record", "crm"):
        if stage in deployed and ledger.first(ticket, STAGE_WORKERS[stage][1]) is None:
            return False
    analyzed = ledger.first(ticket, "TicketAnalyzed")
    if analyzed is None:
        return "record" not in deployed
    return _notified(ledger, ticket, analyzed, deployed, routes) and _path_ended(
        ledger, ticket, analyzed, deployed, routes
    )


def path_end_event(ledger: Ledger, ticket: str, analyzed: BusEvent) -> BusEvent | None:
    """The event that ends the ticket's path: its escalation's outcome if escalated, else its draft."""
    if analyzed.detail.get("needs_escalation"):
        return ledger.first(ticket, "EscalationResolved")
    return ledger.reply_draft(ticket)


def _path_ended(ledger: Ledger, ticket: str, analyzed: BusEvent, deployed: set[str], routes: Sequence[Route]) -> bool:
    stage = "escalation" if analyzed.detail.get("needs_escalation") else "draft"
    if stage not in deployed:
        return True
    end = path_end_event(ledger, ticket, analyzed)
    if end is None:
        return False
    if "crm" in deployed and not ledger.merged_into_crm(ticket, end):
        return False
    return _notified(ledger, ticket, end, deployed, routes)


def _notified(ledger: Ledger, ticket: str, event: BusEvent, deployed: set[str], routes: Sequence[Route]) -> bool:
    if "notify" not in deployed:
        return True
    wanted = expected_audiences(routes, event.detail_type, event.detail)
    sent = {
        str(n.detail.get("audience"))
        for n in ledger.by_ticket.get(ticket, {}).get("NotificationSent", [])
        if n.detail.get("about_event_id") == event.event_id
    }
    return wanted <= sent


def outcome(ledger: Ledger, ticket: str) -> str:
    """The end recorded for the ticket, else how far it got: accepted (not through every stage) or missing."""
    if ticket in ledger.ends:
        return ledger.ends[ticket]
    if ledger.first(ticket, "TicketRejected") is not None:
        return "rejected"
    if ticket in ledger.dead_tickets:
        return "dead-lettered"
    if ledger.first(ticket, "TicketAccepted") is not None:
        return "accepted"
    return "missing"


def duplicates(ledger: Ledger) -> list[str]:
    """Every effect done more than once for one event, each as a readable line."""
    found: list[str] = []
    for ticket, events in ledger.by_ticket.items():
        for detail_type in ONCE_PER_TICKET:
            seen = events.get(detail_type, [])
            if len(seen) > 1:
                found.append(f"{ticket}: {detail_type} x{len(seen)}")
        crm = Counter(str(e.detail.get("about_event_id") or ticket) for e in events.get("CrmRecordUpdated", []))
        found.extend(f"{ticket}: CrmRecordUpdated about {about} x{n}" for about, n in crm.items() if n > 1)
        sent = Counter(
            (str(e.detail.get("about_event_id")), str(e.detail.get("audience")))
            for e in events.get("NotificationSent", [])
        )
        found.extend(
            f"{ticket}: NotificationSent {who} about {about} x{n}" for (about, who), n in sent.items() if n > 1
        )
    for ticket, cases in ledger.crm_cases.items():
        if len(cases) > 1:
            found.append(f"{ticket}: {len(cases)} CRM cases")
    sns = Counter((m.about, m.audience) for m in ledger.sns)
    found.extend(f"SNS {who} about {about} x{n}" for (about, who), n in sns.items() if n > 1)
    return found


def _gap_ms(later: BusEvent | None, earlier: Iterable[BusEvent | None]) -> float | None:
    times = [e.at for e in earlier if e is not None and e.at is not None]
    if later is None or later.at is None or not times:
        return None
    return (later.at - max(times)).total_seconds() * 1000.0


def _about(events: dict[str, list[BusEvent]], detail_type: str, about: BusEvent | None) -> BusEvent | None:
    if about is None:
        return None
    return next((e for e in events.get(detail_type, []) if e.detail.get("about_event_id") == about.event_id), None)


def stage_latency_ms(ledger: Ledger) -> dict[str, dict[str, float]]:
    """Per stage, p50 and p95 of the time from the event(s) it waits for to the event it emits."""
    samples: dict[str, list[float]] = defaultdict(list)
    for ticket in ledger.by_ticket:
        events = ledger.by_ticket[ticket]

        def first(detail_type: str, events: dict[str, list[BusEvent]] = events) -> BusEvent | None:
            return events[detail_type][0] if events.get(detail_type) else None

        submitted, accepted = first("TicketSubmitted"), first("TicketAccepted")
        classified, sentiment, analyzed = first("TicketClassified"), first("SentimentAnalyzed"), first("TicketAnalyzed")
        trigger = analyzed or first("TicketRejected")
        requested = first("EscalationRequested")
        gaps = {
            "intake": _gap_ms(accepted or first("TicketRejected"), [submitted]),
            "classify": _gap_ms(classified, [accepted]),
            "sentiment": _gap_ms(sentiment, [accepted]),
            "record": _gap_ms(analyzed, [classified, sentiment]),
            "crm": _gap_ms(_about(events, "CrmRecordUpdated", analyzed), [analyzed]),
            "notify": _gap_ms(_about(events, "NotificationSent", trigger), [trigger]),
            "draft": _gap_ms(ledger.reply_draft(ticket), [analyzed]),
            "escalation_requested": _gap_ms(requested, [analyzed]),
            "escalation_draft": _gap_ms(ledger.escalation_draft(ticket), [requested]),
            # Includes the wait for the (run's) decision, or the timeouts.
            "escalation_resolved": _gap_ms(first("EscalationResolved"), [requested]),
        }
        last = [e for seen in events.values() for e in seen if e.at is not None]
        if last and submitted is not None:
            gaps["end_to_end"] = _gap_ms(max(last, key=lambda e: e.at or datetime.min), [submitted])
        for stage, gap in gaps.items():
            if gap is not None:
                samples[stage].append(max(gap, 0.0))
    return {stage: _percentiles(values) for stage, values in samples.items()}


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if len(ordered) == 1:
        return {"p50": round(ordered[0], 1), "p95": round(ordered[0], 1), "n": 1}
    cuts = statistics.quantiles(ordered, n=20, method="inclusive")
    return {"p50": round(statistics.median(ordered), 1), "p95": round(cuts[18], 1), "n": len(ordered)}


def usage(ledger: Ledger) -> tuple[int, float]:
    """(tokens, cost in USD) summed over the model-calling events, each event id once."""
    tokens, cost = 0, 0.0
    for events in ledger.by_ticket.values():
        for detail_type in USAGE_EVENTS:
            for event in events.get(detail_type, []):
                spent = event.detail.get("usage") or {}
                tokens += int(spent.get("input_tokens", 0)) + int(spent.get("output_tokens", 0))
                cost += float(spent.get("estimated_cost_usd", 0.0))
    return tokens, round(cost, 6)


def tally(ledger: Ledger, detail_type: str, name: str) -> dict[str, int]:
    """How many tickets got each value of ``name`` in their first event of ``detail_type``."""
    counts: Counter[str] = Counter()
    for ticket in ledger.by_ticket:
        event = ledger.first(ticket, detail_type)
        if event is not None:
            counts[str(event.detail.get(name))] += 1
    return dict(counts.most_common())
