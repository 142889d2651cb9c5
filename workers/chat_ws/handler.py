"""Lambda entry point of the WebSocket chat ($connect, $disconnect, $default, chat.send_message): glue only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from workers.chat_ws.bootstrap import get_service
from workers.chat_ws.logic import ConnectionUnknown
from workers.chat_ws.models import SendMessage, WebSocketEvent
from workers.shared.budgets import BudgetLimits

logger = Logger()
tracer = Tracer()

_OK = {"statusCode": 200}


@logger.inject_lambda_context(correlation_id_path="requestContext.connectionId", clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One WebSocket event in; messages go back through @connections, the return value is API Gateway's."""
    parsed = WebSocketEvent.model_validate(event)
    request = parsed.request_context
    service = get_service(request.domain_name, request.stage)
    if request.event_type == "CONNECT":
        caller = request.caller
        if caller is None:
            return {"statusCode": 403}
        limits = BudgetLimits(daily=caller.daily_token_limit, monthly=caller.monthly_token_limit)
        service.connect(request.connection_id, caller.tenant_id, limits)
        return _OK
    if request.event_type == "DISCONNECT":
        service.disconnect(request.connection_id)
        return _OK
    try:
        message = SendMessage.model_validate_json(parsed.body or "")
    except ValidationError:
        service.reject(
            request.connection_id, "invalid_message", "expected a chat.send_message with session_id and message"
        )
        return _OK
    try:
        service.send_message(request.connection_id, message)
    except ConnectionUnknown:
        service.reject(
            request.connection_id, "invalid_message", "this connection is not registered", message.session_id
        )
    return _OK
