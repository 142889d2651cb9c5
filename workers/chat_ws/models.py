"""The chat protocol over WebSocket, and the API Gateway WebSocket events that carry it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ErrorCode = Literal["budget_exhausted", "throttled", "model_error", "invalid_message", "internal_error"]


class SendMessage(BaseModel):
    """``chat.send_message``: one user turn of a session, optionally on a named model route."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["chat.send_message"]
    session_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    message: str = Field(min_length=1, max_length=20_000)
    route: str | None = Field(default=None, min_length=1, max_length=64)


class MessageStream(BaseModel):
    """One chunk of the answer, as ConverseStream yielded it."""

    type: Literal["chat.message_stream"] = "chat.message_stream"
    session_id: str
    delta: str


class MessageReset(BaseModel):
    """The stream is being retried from the start: discard the chunks received so far."""

    type: Literal["chat.message_reset"] = "chat.message_reset"
    session_id: str
    attempt: int


class MessageUsage(BaseModel):
    """Tokens the answer cost."""

    input_tokens: int
    output_tokens: int
    total_tokens: int


class MessageComplete(BaseModel):
    """The answer is complete: what it used and cost, and which model gave it."""

    type: Literal["chat.message_complete"] = "chat.message_complete"
    session_id: str
    model_id: str
    usage: MessageUsage
    cost_usd: float


class ChatError(BaseModel):
    """A protocol-level error; the connection stays open."""

    type: Literal["chat.error"] = "chat.error"
    session_id: str | None = None
    code: ErrorCode
    message: str


OutboundMessage = MessageStream | MessageReset | MessageComplete | ChatError


class Caller(BaseModel):
    """The authorizer context every event of a connection carries (flat scalars, as API Gateway passes them)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    tenant_id: str = Field(alias="tenantId", min_length=1)
    daily_token_limit: int = Field(alias="dailyTokenLimit", ge=0)
    monthly_token_limit: int = Field(alias="monthlyTokenLimit", ge=0)


class WebSocketRequestContext(BaseModel):
    """The parts of ``requestContext`` of an API Gateway WebSocket event the function reads."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    connection_id: str = Field(alias="connectionId")
    route_key: str = Field(alias="routeKey")
    event_type: Literal["CONNECT", "DISCONNECT", "MESSAGE"] = Field(alias="eventType")
    domain_name: str = Field(alias="domainName")
    stage: str
    authorizer: dict[str, Any] = Field(default_factory=dict)

    @property
    def caller(self) -> Caller | None:
        """The tenant and limits the $connect authorizer put in its context; None without one."""
        try:
            return Caller.model_validate(self.authorizer)
        except ValueError:
            return None


class WebSocketEvent(BaseModel):
    """An API Gateway WebSocket event ($connect, $disconnect, or a message route)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    request_context: WebSocketRequestContext = Field(alias="requestContext")
    body: str | None = None
