"""The public REST API's routes (Powertools resolver with validation): translate, delegate, answer.

The authorizer has already resolved the tenant; its context (``requestContext.authorizer``) names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from pydantic import BaseModel

from workers.api.logic import ApiError, ApiService, Caller
from workers.api.models import (
    ChatIn,
    ChatOut,
    ChatSessionOut,
    ErrorBody,
    FeedbackAcceptedOut,
    FeedbackIn,
    QueriesAcceptedOut,
    QueriesIn,
    QueryOut,
    TicketAcceptedOut,
    TicketIn,
    TicketOut,
)
from workers.shared.budgets import BudgetLimits, Remaining
from workers.shared.runtime.http import service_of

logger = Logger(child=True)

TITLE = "supportflow public API"
VERSION = "1.0.0"
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
TicketId = Annotated[str, Path(pattern=_ID_PATTERN, description="The ticket id POST /tickets answered.")]
SessionId = Annotated[str, Path(pattern=_ID_PATTERN, description="The chat session id.")]
QueryId = Annotated[str, Path(pattern=_ID_PATTERN, description="The query id POST /queries answered.")]
_BUDGET_HEADERS: dict[str, OpenAPIResponseHeader] = {
    "X-Budget-Remaining-Daily": {"description": "Tokens left today (UTC).", "schema": {"type": "string"}},
    "X-Budget-Remaining-Monthly": {"description": "Tokens left this month (UTC).", "schema": {"type": "string"}},
}
_ERRORS = {
    400: "The body is not UTF-8 JSON.",
    401: "No tenant in the authorizer context.",
    404: "No such resource for this tenant.",
    415: "The body is not JSON.",
    422: "The request failed validation.",
    429: "The tenant's token budget is spent.",
    501: "Document uploads are not configured in this deployment.",
    503: "The model could not answer; nothing was charged.",
}


class Unauthenticated(ApiError):
    """The request reached the function without an authorizer context (a misconfigured API)."""

    status = 401
    code = "unauthorized"


def _responses(
    status: int, text: str, model: type[BaseModel] | None, errors: tuple[int, ...]
) -> dict[int, OpenAPIResponse]:
    ok: OpenAPIResponse = {"description": text, "headers": _BUDGET_HEADERS}
    if model is not None:
        ok["content"] = {"application/json": {"model": model}}
    responses: dict[int, OpenAPIResponse] = {status: ok}
    for code in (400, 401, 415, 422, *errors):
        responses[code] = {"description": _ERRORS[code], "content": {"application/json": {"model": ErrorBody}}}
    return responses


app = APIGatewayRestResolver(enable_validation=True)
app.configure_openapi(
    title=TITLE,
    version=VERSION,
    description="Tickets, feedback, chat sessions and asynchronous queries, with per-tenant token budgets.",
    security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)},
    security=[{"apiKey": []}],
)


def _service() -> ApiService:
    return service_of(app, ApiService)


def caller() -> Caller:
    """The tenant the authorizer resolved, from the request's authorizer context."""
    context = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    try:
        return Caller(
            tenant_id=str(context["tenantId"]),
            limits=BudgetLimits(daily=int(context["dailyTokenLimit"]), monthly=int(context["monthlyTokenLimit"])),
            remaining=Remaining(daily=int(context["remainingDaily"]), monthly=int(context["remainingMonthly"])),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise Unauthenticated("no tenant in the authorizer context") from error


def base_url() -> str:
    """The stage's URL as the caller reached it (http on a loopback host, as the local gateway serves it)."""
    event = app.current_event
    host = event.headers.get("host") or event.headers.get("Host") or event.request_context.domain_name or ""
    proto = event.headers.get("x-forwarded-proto") or event.headers.get("X-Forwarded-Proto")
    if proto is None:
        proto = "http" if host.startswith(("127.0.0.1", "localhost")) else "https"
    return f"{proto}://{host}/{event.request_context.stage}"


def _answer(model: BaseModel | None, remaining: Remaining, status: int = 200) -> Response[Any]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=model if model is not None else "",
        headers=remaining.headers(),
    )


@app.exception_handler(ApiError)  # type: ignore[untyped-decorator]
def _api_error(error: ApiError) -> Response[ErrorBody]:
    return Response(
        status_code=error.status, content_type="application/json", body=ErrorBody(code=error.code, message=str(error))
    )


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _invalid_request(error: RequestValidationError) -> Response[ErrorBody]:
    # Field paths and messages only: the submitted values may be personal data.
    problems = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in error.errors())
    return Response(
        status_code=422,
        content_type="application/json",
        body=ErrorBody(code="validation_error", message=problems or "invalid request"),
    )


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected(error: Exception) -> Response[ErrorBody]:
    # Logged with its trace for us; the caller sees the one error shape and nothing of the trace.
    logger.exception("request failed", extra={"error": type(error).__name__})
    return Response(
        status_code=500,
        content_type="application/json",
        body=ErrorBody(code="internal_error", message="internal error"),
    )


@app.post("/tickets", responses=_responses(202, "Submitted; read it at status_url.", TicketAcceptedOut, ()))
def submit_ticket(body: TicketIn) -> Response[TicketAcceptedOut]:
    """Submit a ticket; the pipeline classifies, analyses and drafts it."""
    who = caller()
    return _answer(_service().submit_ticket(who, body, base_url()), who.remaining, 202)


@app.get("/tickets/<ticket_id>", responses=_responses(200, "The ticket as recorded so far.", TicketOut, (404,)))
def get_ticket(ticket_id: TicketId) -> Response[TicketOut]:
    """Read a ticket: status, classification, sentiment, key issues, suggested solution, draft, escalation."""
    who = caller()
    return _answer(_service().get_ticket(who, ticket_id), who.remaining)


@app.post("/feedback", responses=_responses(202, "Received, or awaiting its upload.", FeedbackAcceptedOut, (501,)))
def submit_feedback(body: FeedbackIn) -> Response[FeedbackAcceptedOut]:
    """Submit feedback: inline text, or a document to PUT to the presigned URL the answer gives."""
    who = caller()
    return _answer(_service().submit_feedback(who, body), who.remaining, 202)


@app.post("/chat", responses=_responses(200, "The model's reply.", ChatOut, (429, 503)))
def chat(body: ChatIn) -> Response[ChatOut]:
    """One chat turn: the reply, its usage and cost; the budget headers say what remains after it."""
    reply, remaining = _service().chat(caller(), body)
    return _answer(reply, remaining)


@app.get("/chat/sessions/<session_id>", responses=_responses(200, "The session's turns.", ChatSessionOut, (404,)))
def get_session(session_id: SessionId) -> Response[ChatSessionOut]:
    """A chat session's history."""
    who = caller()
    return _answer(_service().get_session(who, session_id), who.remaining)


@app.delete("/chat/sessions/<session_id>", responses=_responses(204, "Deleted.", None, (404,)))
def delete_session(session_id: SessionId) -> Response[None]:
    """Forget a chat session."""
    who = caller()
    _service().delete_session(who, session_id)
    return Response(status_code=204, headers=who.remaining.headers())


@app.post("/queries", responses=_responses(202, "Queued.", QueriesAcceptedOut, ()))
def submit_queries(body: QueriesIn) -> Response[QueriesAcceptedOut]:
    """Queue one query or a batch; poll each status URL."""
    who = caller()
    return _answer(_service().submit_queries(who, body, base_url()), who.remaining, 202)


@app.get("/queries/<query_id>", responses=_responses(200, "The query's state.", QueryOut, (404,)))
def get_query(query_id: QueryId) -> Response[QueryOut]:
    """A query: queued, running, done (result, usage, cost) or failed (reason)."""
    who = caller()
    return _answer(_service().get_query(who, query_id), who.remaining)


def _refuse(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": ErrorBody(code=code, message=message).model_dump_json(),
        "isBase64Encoded": False,
    }


def refuse_unreadable_body(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """Refuse a body that is not UTF-8 JSON before anything parses it; None lets routing go on."""
    headers = event.get("headers") or {}
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = event.get("body")
    if body and media_type and media_type != "application/json" and not media_type.endswith("+json"):
        return _refuse(415, "unsupported_media_type", "send the body as application/json")
    if body and event.get("isBase64Encoded"):
        return _refuse(400, "unreadable_body", "the body is not UTF-8 text")
    return None
