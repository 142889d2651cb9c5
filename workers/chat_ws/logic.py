"""The chat rules: connections in a table, a turn reserved against the tenant's budget, the answer streamed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import BaseModel

from workers.chat_ws.models import (
    ChatError,
    ErrorCode,
    MessageComplete,
    MessageReset,
    MessageStream,
    MessageUsage,
    SendMessage,
)
from workers.chat_ws.ports import (
    ChatModel,
    Connection,
    ConnectionGone,
    ConnectionSender,
    ConnectionStore,
    SessionStore,
    Turn,
)
from workers.shared.bedrock import BedrockError, ModelThrottled, Result, TokenBudgetExceeded
from workers.shared.budgets import BudgetExhausted, BudgetLimits, TokenBudget

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a customer-support assistant. Answer the agent's questions about the case concisely and accurately."
)
# Characters per token for the reservation estimate; settled with the real usage afterwards.
_CHARS_PER_TOKEN = 4


class ConnectionUnknown(Exception):
    """A message arrived on a connection with no record (never connected, or already cleaned up)."""


@dataclass(frozen=True)
class ChatConfig:
    """What a chat turn may use."""

    default_route: str = "chat"
    max_output_tokens: int = 1024
    max_input_tokens: int = 8_000


class _SocketListener:
    """Forwards each text delta to the socket as ``chat.message_stream``; a gone socket stops the stream."""

    def __init__(self, sender: ConnectionSender, connection_id: str, session_id: str) -> None:
        self._sender = sender
        self._connection_id = connection_id
        self._session_id = session_id
        self.streamed: list[str] = []

    def on_text(self, delta: str) -> None:
        self.streamed.append(delta)
        _send(self._sender, self._connection_id, MessageStream(session_id=self._session_id, delta=delta))

    def on_restart(self, attempt: int) -> None:
        self.streamed.clear()
        _send(self._sender, self._connection_id, MessageReset(session_id=self._session_id, attempt=attempt))

    def correct(self, text: str, attempt: int) -> None:
        """Make what the client holds the final text (a fallback to another model restarts unannounced)."""
        if "".join(self.streamed) != text:
            self.on_restart(attempt)
            self.on_text(text)


def _send(sender: ConnectionSender, connection_id: str, message: BaseModel) -> None:
    sender.post(connection_id, message.model_dump_json().encode())


class ChatService:
    """$connect, $disconnect and chat.send_message, over the ports."""

    def __init__(
        self,
        *,
        connections: ConnectionStore,
        sessions: SessionStore,
        sender: ConnectionSender,
        model: ChatModel,
        budget: TokenBudget,
        config: ChatConfig,
    ) -> None:
        self._connections = connections
        self._sessions = sessions
        self._sender = sender
        self._model = model
        self._budget = budget
        self._config = config

    def connect(self, connection_id: str, tenant_id: str, limits: BudgetLimits) -> None:
        """Record the connection for the tenant its authorizer resolved, with that tenant's limits."""
        self._connections.put(Connection(connection_id, tenant_id, limits))
        logger.info("chat connected", extra={"connection_id": connection_id, "tenant_id": tenant_id})

    def disconnect(self, connection_id: str) -> None:
        """Forget the connection."""
        self._connections.delete(connection_id)
        logger.info("chat disconnected", extra={"connection_id": connection_id})

    def reject(self, connection_id: str, code: ErrorCode, message: str, session_id: str | None = None) -> None:
        """Answer a message that cannot be served with a protocol error (a gone socket is cleaned up)."""
        try:
            _send(self._sender, connection_id, ChatError(session_id=session_id, code=code, message=message))
        except ConnectionGone:
            self.disconnect(connection_id)

    def send_message(self, connection_id: str, request: SendMessage) -> None:
        """Stream the answer to one turn; errors become ``chat.error``; a vanished client is cleaned up."""
        connection = self._connections.get(connection_id)
        if connection is None:
            raise ConnectionUnknown(connection_id)
        try:
            self._answer(connection, request)
        except ConnectionGone:
            logger.info("chat client gone mid-stream", extra={"connection_id": connection_id})
            self.disconnect(connection_id)

    def _answer(self, connection: Connection, request: SendMessage) -> None:
        history = self._sessions.history(connection.tenant_id, request.session_id)
        turns = [*history, Turn("user", request.message)]
        estimate = sum(len(t.text) for t in turns) // _CHARS_PER_TOKEN + self._config.max_output_tokens
        try:
            reservation = self._budget.reserve(connection.tenant_id, estimate, connection.limits)
        except BudgetExhausted as exc:
            self._error(connection, request, "budget_exhausted", str(exc))
            return
        result: Result[str] | None = None
        # Until the model says otherwise, a stream cut off (client gone) may have spent all it reserved.
        spent = reservation.tokens
        listener = _SocketListener(self._sender, connection.connection_id, request.session_id)
        try:
            result = self._model.converse_stream(
                request.route or self._config.default_route,
                [{"role": t.role, "content": [{"text": t.text}]} for t in turns],
                system=SYSTEM_PROMPT,
                max_input_tokens=self._config.max_input_tokens,
                listener=listener,
            )
        except ModelThrottled as exc:
            spent = 0
            self._error(connection, request, "throttled", "the model is busy; try again shortly", exc)
        except TokenBudgetExceeded as exc:
            spent = 0
            self._error(connection, request, "budget_exhausted", "the conversation is too long for the model", exc)
        except BedrockError as exc:
            spent = 0
            self._error(connection, request, "model_error", "the model failed while answering", exc)
        else:
            spent = result.usage.total_tokens
        finally:
            # What the reservation held beyond the real usage goes back to the tenant.
            self._budget.settle(reservation, spent)
        if result is None:
            return
        listener.correct(result.text, result.attempts + 1)
        self._sessions.append(
            connection.tenant_id, request.session_id, [Turn("user", request.message), Turn("assistant", result.text)]
        )
        usage = MessageUsage(
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            total_tokens=result.usage.total_tokens,
        )
        complete = MessageComplete(
            session_id=request.session_id, model_id=result.model_id, usage=usage, cost_usd=result.cost_usd
        )
        _send(self._sender, connection.connection_id, complete)
        logger.info(
            "chat turn answered",
            extra={"tenant_id": connection.tenant_id, "model_id": result.model_id, "tokens": usage.total_tokens},
        )

    def _error(
        self,
        connection: Connection,
        request: SendMessage,
        code: ErrorCode,
        message: str,
        cause: BaseException | None = None,
    ) -> None:
        logger.warning(
            "chat turn failed",
            extra={"tenant_id": connection.tenant_id, "code": code, "error": type(cause).__name__ if cause else None},
        )
        _send(
            self._sender, connection.connection_id, ChatError(session_id=request.session_id, code=code, message=message)
        )
