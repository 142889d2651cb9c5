"""What a ticket's later events put on its case: the drafted reply, and how its escalation ended.

The CRM's case has no fields for a draft or a decision, so each goes into the note its merge appends
(one note per merged event, which is also how a redelivery is recognised), and the status moves on.
"""

from __future__ import annotations

from typing import Any

from schemas.events import EscalationResolved, ResponseDrafted

# The mock CRM's longest note; the draft is cut to fit, the marker and verdict always fit.
MAX_NOTE_CHARS = 2000
MAX_SOURCES_IN_NOTE = 5
# Where a case's status stands on a ticket's path: an earlier event never moves it back.
STATUS_ORDER = {"open": 0, "escalated": 1, "pending": 2, "resolved": 3, "closed": 4}


def merge_note(detail_type: str, event_id: str) -> str:
    """The note a merge appends: the case itself then says the event is in, whatever a retry finds."""
    return f"supportflow merged {detail_type} {event_id}"


def draft_fields(event: ResponseDrafted) -> dict[str, Any]:
    """A reply drafted to send waits for an agent (pending); one drafted for approval leaves the case escalated."""
    if event.for_escalation:
        return {"escalated": True}
    return {"status": "pending"}


def draft_note(event: ResponseDrafted) -> str:
    """The merge marker, the grounding verdict, the sources and the draft (cut to the CRM's note size)."""
    verdict = "grounded" if event.grounded else "ungrounded"
    purpose = "for approval" if event.for_escalation else "to send"
    sources = ", ".join(source.uri for source in event.sources[:MAX_SOURCES_IN_NOTE]) or "none"
    head = f"{merge_note(event.detail_type, event.event_id)}: reply drafted {purpose}, {verdict}; sources: {sources}"
    return f"{head}; draft: {event.draft}"[:MAX_NOTE_CHARS]


def resolution_fields(event: EscalationResolved) -> dict[str, Any]:
    """An approved reply resolves the case; a rejection, a timeout or a failure leaves it with the escalation team."""
    status = "resolved" if event.decision == "approved" else "escalated"
    return {"status": status, "escalated": True}


def resolution_note(event: EscalationResolved) -> str:
    """The merge marker and the decision: by whom, with edits, after the supervisor, why it failed, the reply."""
    parts = [f"escalation {event.decision}"]
    if event.edited:
        parts.append("with edits")
    if event.supervisor_escalated:
        parts.append("after the supervisor was asked")
    if event.decided_by:
        parts.append(f"by {event.decided_by}")
    text = f"{merge_note(event.detail_type, event.event_id)}: {' '.join(parts)}"
    if event.reason:
        text += f"; reason: {event.reason}"
    if event.comment:
        text += f"; comment: {event.comment}"
    if event.reply:
        text += f"; reply: {event.reply}"
    return text[:MAX_NOTE_CHARS]


def without_regression(wanted: dict[str, Any], current_status: str | None) -> dict[str, Any]:
    """``wanted`` minus a status that lies behind the case's (an analysis merged after its draft)."""
    status = wanted.get("status")
    if status is None or current_status is None:
        return wanted
    if STATUS_ORDER.get(str(status), 0) < STATUS_ORDER.get(current_status, 0):
        return {name: value for name, value in wanted.items() if name != "status"}
    return wanted
