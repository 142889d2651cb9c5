"""The outside systems the REST API talks to, one port each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workers.api.models import QueryOut, TicketOut, TurnOut


@dataclass(frozen=True)
class ModelReply:
    """What a chat model call returned."""

    text: str
    model_id: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


class TicketReader(Protocol):
    """The tickets table, read-only, tenant-scoped by key."""

    def get(self, tenant_id: str, ticket_id: str) -> TicketOut | None:
        """The ticket view, or None."""


class SessionStore(Protocol):
    """The chat sessions table (shared with the WebSocket chat)."""

    def history(self, tenant_id: str, session_id: str) -> list[TurnOut] | None:
        """The turns, or None when the tenant has no such session."""

    def append(self, tenant_id: str, session_id: str, turns: Sequence[TurnOut]) -> None:
        """Add turns (creating the session)."""

    def delete(self, tenant_id: str, session_id: str) -> bool:
        """Remove the tenant's session; whether there was one."""


class QueryStore(Protocol):
    """The queries status table."""

    def create(self, tenant_id: str, query_id: str) -> None:
        """Record a query as queued."""

    def get(self, tenant_id: str, query_id: str) -> QueryOut | None:
        """The query's state, or None."""


class QueryQueue(Protocol):
    """The queries queue (a worker answers them)."""

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Enqueue every message or raise."""


class ChatModel(Protocol):
    """The model behind POST /chat."""

    def reply(self, system: str, turns: Sequence[TurnOut], *, route: str | None, max_input_tokens: int) -> ModelReply:
        """Answer the last turn; history is trimmed oldest-first to ``max_input_tokens`` (never the system prompt)."""

    def estimate(self, system: str, turns: Sequence[TurnOut], max_output_tokens: int) -> int:
        """Tokens to reserve before the call: the input estimate plus the output ceiling."""


class UploadSigner(Protocol):
    """Presigned uploads into the feedback bucket."""

    def presign_put(self, key: str, content_type: str, metadata: dict[str, str]) -> tuple[str, dict[str, str], int]:
        """A URL to PUT ``key`` to, the headers the PUT must carry, and seconds until it expires."""
