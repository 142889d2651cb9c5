"""``supportflow run --approve``: decide for the humans so every escalation reaches its end.

Decisions go through :class:`supportflow.escalations.Escalations`, exactly as ``supportflow approve``
sends them (the conditional write on the approvals table, then SendTaskSuccess). ``auto`` approves,
with an edit for about one ticket in three; ``reject`` rejects; ``timeout`` decides nothing, so the
short local timeouts run out: the supervisor is asked once, then the escalation ends ``timed_out``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from supportflow.escalations import Escalations, Sent, Waiting
from supportflow.local.stack import EmulatedStack

ApproveMode = Literal["auto", "reject", "timeout"]
APPROVE_MODES: tuple[ApproveMode, ...] = ("auto", "reject", "timeout")
DECIDED_BY = "supportflow-run"
EDIT_ONE_IN = 3
EDIT_SUFFIX = "\n\n(Reviewed by our support team.)"
# Seconds a human has per stage (agents, then the supervisor), as template parameter overrides. Long
# enough for the run to decide under load; short enough that `timeout` ends within the run. The draft's
# wait is generous: a 300-ticket chaos run queues drafts for approval for up to a minute.
DECIDING_TIMEOUT_SECONDS = 120
TIMEOUT_MODE_SECONDS = 2
DRAFT_TIMEOUT_SECONDS = 300
APPROVAL_TIMEOUT_PARAMETERS = (
    "HighPriorityApprovalTimeoutSeconds",
    "NormalPriorityApprovalTimeoutSeconds",
    "LowPriorityApprovalTimeoutSeconds",
)


def escalation_parameters(mode: ApproveMode) -> dict[str, str]:
    """Template parameter overrides for a local run: short per-priority approval timeouts."""
    seconds = TIMEOUT_MODE_SECONDS if mode == "timeout" else DECIDING_TIMEOUT_SECONDS
    overrides = dict.fromkeys(APPROVAL_TIMEOUT_PARAMETERS, str(seconds))
    overrides["EscalationDraftTimeoutSeconds"] = str(DRAFT_TIMEOUT_SECONDS)
    return overrides


def wants_edit(ticket_id: str) -> bool:
    """Whether ``auto`` approves this ticket with an edit (a stable choice: same ticket, same answer)."""
    return hashlib.sha256(ticket_id.encode()).digest()[0] % EDIT_ONE_IN == 0


@dataclass
class Approver:
    """Decides each waiting escalation of the run's tickets once; counts what came of each decision."""

    escalations: Escalations
    mode: ApproveMode
    tickets: frozenset[str]
    decided: dict[str, str] = field(default_factory=dict)  # ticket -> approve / approve+edit / reject
    answers: Counter[str] = field(default_factory=Counter)  # Sent name -> count

    @classmethod
    def for_stack(cls, stack: EmulatedStack, mode: ApproveMode, tickets: Iterable[str]) -> Approver | None:
        """The approver of a stack that has the approvals table (None if it has none)."""
        info = stack.resources.get("ApprovalsTable")
        if info is None or info.physical_id is None:
            return None
        escalations = Escalations(str(info.physical_id), stack.clients.dynamodb, stack.clients.stepfunctions)
        return cls(escalations, mode, frozenset(tickets))

    def poll(self) -> None:
        """Decide what waits now (nothing in ``timeout`` mode)."""
        if self.mode == "timeout":
            return
        for row in self.escalations.waiting():
            key = f"{row.ticket_id}/{row.stage}"
            if row.ticket_id in self.tickets and key not in self.decided:
                self.decided[key] = self._decide(row)

    def _decide(self, row: Waiting) -> str:
        if self.mode == "reject":
            sent = self.escalations.decide(row.ticket_id, "reject", decided_by=DECIDED_BY, comment="run: reject")
            choice = "reject"
        elif wants_edit(row.ticket_id):
            edited = (row.draft or "").rstrip() + EDIT_SUFFIX
            sent = self.escalations.decide(row.ticket_id, "approve", edited_reply=edited, decided_by=DECIDED_BY)
            choice = "approve+edit"
        else:
            sent = self.escalations.decide(row.ticket_id, "approve", decided_by=DECIDED_BY)
            choice = "approve"
        self.answers[sent.name.lower()] += 1
        return choice if sent is Sent.SENT else f"{choice}:{sent.name.lower()}"

    def as_dict(self) -> dict[str, object]:
        """The report's ``approver`` entry."""
        return {"mode": self.mode, "decisions": dict(Counter(self.decided.values())), "answers": dict(self.answers)}
