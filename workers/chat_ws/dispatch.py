"""One WebSocket event to the chat service: $connect registers the caller, $disconnect forgets it, a frame is a turn.

Messages go back through ``@connections``; what this returns is API Gateway's answer to the event itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from workers.chat_ws.logic import ConnectionUnknown
from workers.chat_ws.models import SendMessage, WebSocketEvent
from workers.chat_ws.wiring import ChatApp
from workers.shared.budgets import BudgetLimits

CORRELATION_PATH = "requestContext.connectionId"
_OK = 200
_FORBIDDEN = 403


def handle_event(app: ChatApp, event: dict[str, Any]) -> dict[str, Any]:
    """Route one WebSocket event; a frame that is not a ``chat.send_message`` is answered with ``chat.error``."""
    parsed = WebSocketEvent.model_validate(event)
    request = parsed.request_context
    service = app.service_for(request.domain_name, request.stage)
    if request.event_type == "CONNECT":
        caller = request.caller
        if caller is None:
            return {"statusCode": _FORBIDDEN}
        limits = BudgetLimits(daily=caller.daily_token_limit, monthly=caller.monthly_token_limit)
        service.connect(request.connection_id, caller.tenant_id, limits)
        return {"statusCode": _OK}
    if request.event_type == "DISCONNECT":
        service.disconnect(request.connection_id)
        return {"statusCode": _OK}
    try:
        message = SendMessage.model_validate_json(parsed.body or "")
    except ValidationError:
        service.reject(
            request.connection_id, "invalid_message", "expected a chat.send_message with session_id and message"
        )
        return {"statusCode": _OK}
    try:
        service.send_message(request.connection_id, message)
    except ConnectionUnknown:
        service.reject(
            request.connection_id, "invalid_message", "this connection is not registered", message.session_id
        )
    return {"statusCode": _OK}
