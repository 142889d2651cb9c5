"""The REST API's rules: tickets, feedback, chat and queries for one tenant; domain errors the app maps to HTTP."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

from aws_lambda_powertools import Logger

from schemas.events import Customer, FeedbackReceived, TicketSubmitted
from workers.api.models import (
    ChatIn,
    ChatOut,
    ChatSessionOut,
    FeedbackAcceptedOut,
    FeedbackIn,
    QueriesAcceptedOut,
    QueriesIn,
    QueryOut,
    TicketAcceptedOut,
    TicketIn,
    TicketOut,
    TurnOut,
    UsageOut,
)
from workers.api.ports import ChatModel, QueryQueue, QueryStore, SessionStore, TicketReader, UploadSigner
from workers.shared.budgets import BudgetExhausted, BudgetLimits, Remaining, TokenBudget
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

# Uploads land where the feedback pipeline's rule watches (FeedbackUploadedRule: feedback/ in FeedbackBucket).
FEEDBACK_PREFIX = "feedback/"
_EXTENSION = re.compile(r"^\.[a-z0-9]{1,8}$")
# Minutes until a first answer is expected, by priority.
RESPONSE_MINUTES = {"critical": 60, "high": 240, "normal": 1440, "low": 4320}
CHAT_SYSTEM_PROMPT = (
    "You are supportflow's assistant for customer-support agents. Answer briefly and precisely; "
    "say so when you do not know."
)


class ApiError(Exception):
    """A refusal the caller should see: HTTP status, stable code, one sentence."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class NotFound(ApiError):
    """No such resource for this tenant."""

    status = 404
    code = "not_found"


class BudgetSpent(ApiError):
    """The tenant's token budget cannot cover the call."""

    status = 429
    code = "budget_exhausted"


class ModelUnavailable(ApiError):
    """The model failed; nothing was charged."""

    status = 503
    code = "model_unavailable"


class UploadsUnavailable(ApiError):
    """This deployment has no feedback bucket wired to the API."""

    status = 501
    code = "uploads_unavailable"


@dataclass(frozen=True)
class Caller:
    """The tenant the authorizer resolved, its limits and what remained when it was authorized."""

    tenant_id: str
    limits: BudgetLimits
    remaining: Remaining


def new_id(prefix: str) -> str:
    """A fresh resource id."""
    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass
class ApiService:
    """Every route's logic over its ports."""

    publisher: EventPublisher
    tickets: TicketReader
    sessions: SessionStore
    queries: QueryStore
    queue: QueryQueue
    model: ChatModel
    budget: TokenBudget
    uploads: UploadSigner | None = None
    chat_max_input_tokens: int = 8_000
    chat_max_output_tokens: int = 1_024

    def submit_ticket(self, caller: Caller, ticket: TicketIn, base_url: str) -> TicketAcceptedOut:
        """Publish TicketSubmitted; the pipeline takes it from the bus."""
        ticket_id = new_id("tkt")
        attributes = {"category": ticket.category} if ticket.category else {}
        event = TicketSubmitted(
            correlation_id=ticket_id,
            tenant_id=caller.tenant_id,
            ticket_id=ticket_id,
            channel="api",
            customer=Customer(**ticket.customer.model_dump()),
            subject=ticket.subject,
            body=ticket.description,
            priority=ticket.priority,  # "critical" is normalised to high by the contract
            attributes=attributes,
        )
        self.publisher.publish([event])
        logger.info("ticket submitted", extra={"ticket_id": ticket_id, "tenant_id": caller.tenant_id})
        return TicketAcceptedOut(
            ticket_id=ticket_id,
            status_url=f"{base_url}/tickets/{ticket_id}",
            estimated_response_minutes=RESPONSE_MINUTES[ticket.priority],
        )

    def get_ticket(self, caller: Caller, ticket_id: str) -> TicketOut:
        """The tenant's ticket record, or ``NotFound``."""
        ticket = self.tickets.get(caller.tenant_id, ticket_id)
        if ticket is None:
            raise NotFound("no such ticket")
        return ticket

    def submit_feedback(self, caller: Caller, feedback: FeedbackIn) -> FeedbackAcceptedOut:
        """Inline text: publish FeedbackReceived. A document: a presigned PUT under the bucket's feedback/ prefix."""
        feedback_id = new_id("fb")
        if feedback.document is not None:
            if self.uploads is None:
                raise UploadsUnavailable("document uploads are not configured; send text")
            suffix = PurePosixPath(feedback.document.filename).suffix.lower()
            extension = suffix if _EXTENSION.match(suffix) else ""
            metadata = {"feedback-id": feedback_id, "tenant-id": caller.tenant_id}
            if feedback.customer_id:
                metadata["customer-id"] = feedback.customer_id
            url, headers, expires = self.uploads.presign_put(
                f"{FEEDBACK_PREFIX}{feedback_id}{extension}", feedback.document.content_type, metadata
            )
            return FeedbackAcceptedOut(
                feedback_id=feedback_id,
                status="awaiting_upload",
                upload_url=url,
                upload_headers=headers,
                expires_in_seconds=expires,
            )
        self.publisher.publish(
            [
                FeedbackReceived(
                    correlation_id=feedback_id,
                    tenant_id=caller.tenant_id,
                    feedback_id=feedback_id,
                    source="api",
                    text=feedback.text,
                    rating=feedback.rating,
                    customer_id=feedback.customer_id,
                )
            ]
        )
        return FeedbackAcceptedOut(feedback_id=feedback_id)

    def chat(self, caller: Caller, message: ChatIn) -> tuple[ChatOut, Remaining]:
        """Reserve, call the model on the trimmed history, settle, store both turns."""
        session_id = message.session_id or new_id("chat")
        history = self.sessions.history(caller.tenant_id, session_id) or []
        user = TurnOut(role="user", text=message.message)
        turns = [*history, user]
        # The client trims history to chat_max_input_tokens, so no call can use more than that plus its output.
        estimate = min(
            self.model.estimate(CHAT_SYSTEM_PROMPT, turns, self.chat_max_output_tokens),
            self.chat_max_input_tokens + self.chat_max_output_tokens,
        )
        try:
            reservation = self.budget.reserve(caller.tenant_id, estimate, caller.limits)
        except BudgetExhausted as spent:
            raise BudgetSpent(str(spent)) from spent
        try:
            reply = self.model.reply(
                CHAT_SYSTEM_PROMPT, turns, route=message.model_route, max_input_tokens=self.chat_max_input_tokens
            )
        except Exception as error:
            self.budget.release(reservation)
            logger.warning("chat model failed", extra={"tenant_id": caller.tenant_id, "error": type(error).__name__})
            raise ModelUnavailable("the model could not answer; nothing was charged") from error
        remaining = self.budget.settle(reservation, reply.input_tokens + reply.output_tokens)
        self.sessions.append(caller.tenant_id, session_id, [user, TurnOut(role="assistant", text=reply.text)])
        usage = UsageOut(input_tokens=reply.input_tokens, output_tokens=reply.output_tokens, cost_usd=reply.cost_usd)
        return ChatOut(session_id=session_id, reply=reply.text, model_id=reply.model_id, usage=usage), remaining

    def get_session(self, caller: Caller, session_id: str) -> ChatSessionOut:
        """The tenant's session history, or ``NotFound``."""
        turns = self.sessions.history(caller.tenant_id, session_id)
        if turns is None:
            raise NotFound("no such chat session")
        return ChatSessionOut(session_id=session_id, turns=turns)

    def delete_session(self, caller: Caller, session_id: str) -> None:
        """Forget the tenant's session, or ``NotFound``."""
        if not self.sessions.delete(caller.tenant_id, session_id):
            raise NotFound("no such chat session")

    def submit_queries(self, caller: Caller, batch: QueriesIn, base_url: str) -> QueriesAcceptedOut:
        """Record each query as queued, then enqueue them all (high priority first)."""
        ids = [new_id("q") for _ in batch.queries]
        for query_id in ids:
            self.queries.create(caller.tenant_id, query_id)
        ordered = sorted(zip(ids, batch.queries, strict=True), key=lambda pair: pair[1].priority != "high")
        self.queue.send(
            [
                {
                    "query_id": query_id,
                    "tenant_id": caller.tenant_id,
                    "question": query.question,
                    "model_route": query.model_route,
                    "priority": query.priority,
                    "daily_token_limit": caller.limits.daily,
                    "monthly_token_limit": caller.limits.monthly,
                }
                for query_id, query in ordered
            ]
        )
        return QueriesAcceptedOut(query_ids=ids, status_urls=[f"{base_url}/queries/{query_id}" for query_id in ids])

    def get_query(self, caller: Caller, query_id: str) -> QueryOut:
        """The tenant's query state, or ``NotFound``."""
        query = self.queries.get(caller.tenant_id, query_id)
        if query is None:
            raise NotFound("no such query")
        return query
