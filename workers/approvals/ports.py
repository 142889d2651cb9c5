"""The approvals worker's one outside system besides the bus: where waiting requests are kept."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

Stage = Literal["agent", "supervisor"]


class WaitingApproval(BaseModel):
    """One approval request as the approvals table keeps it: the token never leaves the server side."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    task_token: str
    stage: Stage
    priority: str
    draft: str | None
    grounded: bool
    requested_at: datetime
    expires_at: datetime
    correlation_id: str
    tenant_id: str
    ticket_json: str


class ApprovalStore(Protocol):
    """Keeps the request a ticket waits on."""

    def record(self, approval: WaitingApproval) -> bool:
        """Store ``approval`` as the ticket's waiting request; False if its token was already handled."""
