"""In-memory connections and sessions that behave like the tables (tests and the benchmark use them)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from workers.chat_ws.ports import Connection, Turn


class InMemoryConnectionStore:
    """The connections table as a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, Connection] = {}
        self._lock = threading.Lock()

    def put(self, connection: Connection) -> None:
        """Record a connection."""
        with self._lock:
            self.rows[connection.connection_id] = connection

    def get(self, connection_id: str) -> Connection | None:
        """The connection, or None."""
        with self._lock:
            return self.rows.get(connection_id)

    def delete(self, connection_id: str) -> None:
        """Forget a connection."""
        with self._lock:
            self.rows.pop(connection_id, None)


class InMemorySessionStore:
    """The sessions table as a dict; a session belongs to the tenant that wrote it first."""

    def __init__(self) -> None:
        self.sessions: dict[str, tuple[str, list[Turn]]] = {}
        self._lock = threading.Lock()

    def history(self, tenant_id: str, session_id: str) -> list[Turn]:
        """The turns so far (another tenant's session reads as empty)."""
        with self._lock:
            owner, turns = self.sessions.get(session_id, (tenant_id, []))
            return list(turns) if owner == tenant_id else []

    def append(self, tenant_id: str, session_id: str, turns: Sequence[Turn]) -> None:
        """Add turns; another tenant's session is refused."""
        with self._lock:
            owner, existing = self.sessions.setdefault(session_id, (tenant_id, []))
            if owner != tenant_id:
                raise PermissionError("session belongs to another tenant")
            existing.extend(turns)
