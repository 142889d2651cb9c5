"""The chain's three model steps through the shared Bedrock client: extraction, drafting, self-check."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from pydantic import BaseModel, Field

from schemas.events import TokenUsage
from workers.drafting.ports import Claim, DraftRequest, Extraction, Passage, Step, TicketText
from workers.shared.bedrock import BedrockClient, Result

EXTRACTION_TASK = "extraction"
DRAFTING_TASK = "drafting"
CHECK_TASK = "extraction"

_EXTRACT_SYSTEM = """You read a customer-support ticket and record, with the tool:
- questions: each distinct question or request of the customer, as a short standalone question;
- facts: each fact the customer states (order number, amount, date, product...), as a name and a value.
Personal data is already replaced by placeholders such as [EMAIL]; never guess it."""

_DRAFT_SYSTEM = """You draft a reply to a customer-support ticket, for an agent to review.
Rules:
- Answer each question only from the documents given with it; never from your own knowledge.
- A question marked answerable="no" has no document: say that an agent will follow up on it.
- Write in the customer's language (the ticket's language attribute, else the language it is written in).
- Keep placeholders such as [EMAIL] or {{Order Number}} unless a fact gives the value.
- Leave out every claim listed under <unsupported>: no document supports it.
Reply with the message text only."""

_CHECK_SYSTEM = """You check a drafted reply against the documents it may rely on.
Record, with the tool, each factual claim of the draft (skip greetings, thanks, apologies, sign-offs
and promises that an agent will follow up): the claim as written, whether a document supports it,
and the uri of that document."""


class TicketFact(BaseModel):
    """One fact the customer states."""

    name: str = Field(max_length=60, description="What the fact is, e.g. order number.")
    value: str = Field(max_length=200, description="Its value as written in the ticket.")


class TicketQuestions(BaseModel):
    """Record the customer's questions and the facts of one ticket."""

    questions: list[str] = Field(default_factory=list, max_length=6, description="Each distinct question.")
    facts: list[TicketFact] = Field(default_factory=list, max_length=12, description="Facts the ticket states.")


class ClaimCheck(BaseModel):
    """One claim of the draft and whether a document supports it."""

    claim: str = Field(description="The claim as written in the draft.")
    supported: bool = Field(description="True if a document states it.")
    source: str | None = Field(default=None, description="The uri of the supporting document.")


class DraftCheck(BaseModel):
    """Record, per factual claim of the draft, whether a document supports it."""

    claims: list[ClaimCheck] = Field(default_factory=list, max_length=30)


def _usage(result: Result[Any]) -> TokenUsage:
    return TokenUsage(
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        estimated_cost_usd=result.cost_usd,
    )


def _documents(passages: Sequence[Passage]) -> str:
    rows = [
        f'<document index="{i}" uri="{escape(p.uri)}" title="{escape(p.title)}">\n{p.text}\n</document>'
        for i, p in enumerate(passages, 1)
    ]
    return "<documents>\n" + "\n".join(rows) + "\n</documents>"


def _ticket(ticket: TicketText) -> str:
    # Without a detected language the model reads it from the text.
    language = f' language="{escape(ticket.language)}"' if ticket.language else ""
    subject = f"Subject: {ticket.subject}\n\n" if ticket.subject else ""
    return f"<ticket{language}>\n{subject}{ticket.body}\n</ticket>"


def draft_prompt(request: DraftRequest) -> str:
    """The drafting step's user message: documents per question, facts, the ticket, and feedback."""
    blocks = []
    for q in request.questions:
        answerable = "yes" if q.answerable else "no"
        blocks.append(
            f'<question answerable="{answerable}">\n<ask>{q.question}</ask>\n{_documents(q.passages)}\n</question>'
        )
    facts = "\n".join(f'<fact name="{escape(k)}">{v}</fact>' for k, v in request.facts.items())
    parts = ["<questions>", *blocks, "</questions>", f"<facts>\n{facts}\n</facts>", _ticket(request.ticket)]
    if request.unsupported_feedback:
        claims = "\n".join(f"<claim>{c}</claim>" for c in request.unsupported_feedback)
        parts.append(f"<unsupported>\n{claims}\n</unsupported>")
    return "\n".join(parts)


class BedrockDraftingModel:
    """The chain's steps on the ``extraction`` and ``drafting`` routes."""

    def __init__(self, client: BedrockClient, max_draft_tokens: int = 700) -> None:
        self._client = client
        self._max_draft_tokens = max_draft_tokens

    def extract(self, ticket: TicketText) -> Step[Extraction]:
        """One structured call: questions and facts."""
        result = self._client.structured(
            EXTRACTION_TASK,
            [{"role": "user", "content": _ticket(ticket)}],
            TicketQuestions,
            system=_EXTRACT_SYSTEM,
            inference={"maxTokens": 600, "temperature": 0.0},
        )
        answer = result.output
        questions = tuple(q.strip() for q in answer.questions if q.strip())
        facts = {f.name.strip(): f.value.strip() for f in answer.facts if f.name.strip()}
        return Step(Extraction(questions=questions, facts=facts), result.model_id, _usage(result))

    def draft(self, request: DraftRequest) -> Step[str]:
        """One Converse call on the drafting route; the reply text."""
        result = self._client.converse(
            DRAFTING_TASK,
            [{"role": "user", "content": draft_prompt(request)}],
            system=_DRAFT_SYSTEM,
            inference={"maxTokens": self._max_draft_tokens, "temperature": 0.2},
        )
        return Step(result.output.strip(), result.model_id, _usage(result))

    def check(self, draft: str, passages: Sequence[Passage]) -> Step[tuple[Claim, ...]]:
        """One structured call: each claim of the draft, supported or not."""
        prompt = f"{_documents(passages)}\n<draft>\n{draft}\n</draft>"
        result = self._client.structured(
            CHECK_TASK,
            [{"role": "user", "content": prompt}],
            DraftCheck,
            system=_CHECK_SYSTEM,
            inference={"maxTokens": 1200, "temperature": 0.0},
        )
        uris = {p.uri for p in passages}
        claims = tuple(
            # A claim "supported" by a document that was not given is not supported.
            Claim(text=c.claim, supported=c.supported and c.source in uris, source=c.source)
            for c in result.output.claims
        )
        return Step(claims, result.model_id, _usage(result))
