"""What the public REST API accepts and answers: one model per body, and the one error shape."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ApiPriority = Literal["critical", "high", "normal", "low"]
Tier = Literal["free", "standard", "premium", "enterprise"]
QueryStatus = Literal["queued", "running", "done", "failed"]
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorBody(_Out):
    """Every error: a stable machine code and a sentence for people (never a stack trace)."""

    code: str
    message: str


class CustomerIn(_In):
    """Who raises the ticket."""

    customer_id: str = Field(min_length=1, max_length=128, pattern=_ID)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    tier: Tier = "standard"


class TicketIn(_In):
    """A ticket from a web form or an app."""

    subject: str = Field(min_length=1, max_length=500)
    description: str = Field(min_length=1, max_length=20_000)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    priority: ApiPriority = "normal"
    customer: CustomerIn


class TicketAcceptedOut(_Out):
    """A submitted ticket: where to read it, and when an answer is expected."""

    ticket_id: str
    status: Literal["submitted"] = "submitted"
    status_url: str
    estimated_response_minutes: int = Field(
        description="From the priority: critical 60, high 240, normal 1440, low 4320."
    )


class TicketOut(_Out):
    """A ticket as the pipeline has recorded it so far."""

    ticket_id: str
    status: str
    priority: str | None = None
    intent: str | None = None
    category: str | None = None
    classification_confidence: float | None = None
    summary: str | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    key_issues: list[str] = Field(default_factory=list)
    suggested_solution: str | None = None
    draft: str | None = None
    needs_escalation: bool = False
    escalation_reasons: list[str] = Field(default_factory=list)
    escalation_decision: str | None = None
    updated_at: str | None = None


class DocumentIn(_In):
    """A document the caller will upload (PDF, text, image…): its name and media type."""

    filename: str = Field(min_length=1, max_length=200, pattern=r"^[^/\\]+$")
    content_type: str = Field(min_length=3, max_length=100, pattern=r"^[a-z]+/[a-z0-9.+-]+$")


class FeedbackIn(_In):
    """Feedback: inline ``text``, or a ``document`` to upload to the presigned URL the answer gives."""

    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    document: DocumentIn | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    customer_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=_ID)

    @model_validator(mode="after")
    def _text_or_document(self) -> Self:
        if (self.text is None) == (self.document is None):
            msg = "give exactly one of text and document"
            raise ValueError(msg)
        return self


class FeedbackAcceptedOut(_Out):
    """Feedback taken in; for a document, where to PUT it (with these headers) before the URL expires."""

    feedback_id: str
    status: Literal["received", "awaiting_upload"] = "received"
    upload_url: str | None = None
    upload_headers: dict[str, str] = Field(default_factory=dict)
    expires_in_seconds: int | None = None


class ChatIn(_In):
    """One user turn of a chat session (a new session when no id is given)."""

    message: str = Field(min_length=1, max_length=8_000)
    session_id: str | None = Field(default=None, pattern=_ID)
    model_route: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")


class UsageOut(_Out):
    """Tokens a model call used, and what it cost."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class ChatOut(_Out):
    """The model's reply and what it used."""

    session_id: str
    reply: str
    model_id: str
    usage: UsageOut


class TurnOut(_Out):
    """One turn of a session."""

    role: Literal["user", "assistant"]
    text: str


class ChatSessionOut(_Out):
    """A chat session's history."""

    session_id: str
    turns: list[TurnOut]


class QueryIn(_In):
    """One question for the model, answered asynchronously."""

    question: str = Field(min_length=1, max_length=8_000)
    priority: Literal["high", "normal"] = "normal"
    model_route: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")


class QueriesIn(_In):
    """One query or a batch of them."""

    queries: list[QueryIn] = Field(min_length=1, max_length=25)


class QueriesAcceptedOut(_Out):
    """The queued queries, in the order given."""

    query_ids: list[str]
    status_urls: list[str]


class QueryOut(_Out):
    """A query's state; result, usage and cost once done; a reason once failed."""

    query_id: str
    status: QueryStatus
    result: str | None = None
    error: str | None = None
    model_id: str | None = None
    usage: UsageOut | None = None
