"""Ports of the WebSocket chat: the socket back to the client, the connections, the sessions, the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workers.shared.bedrock import Result, StreamListener
from workers.shared.budgets import BudgetLimits


class ConnectionGone(Exception):
    """The client's connection no longer exists (the management API's GoneException)."""

    def __init__(self, connection_id: str) -> None:
        super().__init__("connection is gone")
        self.connection_id = connection_id


class ConnectionSender(Protocol):
    """Posts data to one WebSocket connection (the ``@connections`` management API)."""

    def post(self, connection_id: str, data: bytes) -> None:
        """Send one frame; raise ``ConnectionGone`` when the connection has vanished."""
        ...


@dataclass(frozen=True)
class Connection:
    """A live WebSocket connection, the tenant its $connect authorizer resolved and that tenant's limits."""

    connection_id: str
    tenant_id: str
    limits: BudgetLimits


class ConnectionStore(Protocol):
    """The connections table."""

    def put(self, connection: Connection) -> None:
        """Record a connection."""
        ...

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None when it is not (or no longer) recorded."""
        ...

    def delete(self, connection_id: str) -> None:
        """Forget a connection (idempotent)."""
        ...


@dataclass(frozen=True)
class Turn:
    """One message of a chat session."""

    role: str
    text: str


class SessionStore(Protocol):
    """The chat sessions table: a tenant's history per session."""

    def history(self, tenant_id: str, session_id: str) -> list[Turn]:
        """The turns so far, oldest first (empty for a new session)."""
        ...

    def append(self, tenant_id: str, session_id: str, turns: Sequence[Turn]) -> None:
        """Add turns at the end of the session."""
        ...


class ChatModel(Protocol):
    """Streams a reply on a task's model route (the shared Bedrock client's ``converse_stream``)."""

    def converse_stream(
        self,
        task: str,
        messages: Sequence[Any],
        *,
        system: Any = None,
        max_input_tokens: int | None = None,
        listener: StreamListener | None = None,
    ) -> Result[str]:
        """The streamed reply; text deltas go to ``listener`` as they arrive."""
        ...
