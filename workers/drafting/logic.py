"""The grounded drafting chain: extract, retrieve, draft, self-check (one redraft), then publish.

No AWS here: the chain takes a ``TicketAnalyzed`` and its ports. A question no passage above the
minimum score answers is never answered by the model: the draft says an agent will follow up and the
reply is flagged ungrounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from schemas.events import DraftSource, ResponseDrafted, TicketAnalyzed, TokenUsage
from workers.drafting.placeholders import fill_placeholders
from workers.drafting.ports import (
    DraftingModel,
    DraftRequest,
    KnowledgeSource,
    Passage,
    QuestionContext,
    TicketText,
)
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

UNANSWERED_PREFIX = "Unanswered question: "


@dataclass(frozen=True)
class RetrievalPolicy:
    """How much knowledge a draft may use and how relevant it must be."""

    min_score: float = 0.5
    per_question: int = 3
    max_sources: int = 5


@dataclass(frozen=True)
class Drafted:
    """The chain's verdict before it becomes an event."""

    draft: str
    sources: tuple[Passage, ...]
    grounded: bool
    unsupported_claims: tuple[str, ...]
    unfilled_placeholders: tuple[str, ...]
    suggested_solution: str
    model_id: str
    usage: TokenUsage
    redrafted: bool


def _add(total: TokenUsage, step: TokenUsage) -> TokenUsage:
    return TokenUsage(
        input_tokens=total.input_tokens + step.input_tokens,
        output_tokens=total.output_tokens + step.output_tokens,
        estimated_cost_usd=total.estimated_cost_usd + step.estimated_cost_usd,
    )


def ticket_text(ticket: TicketAnalyzed) -> TicketText:
    """What the model reads of an analysed ticket."""
    return TicketText(subject=ticket.subject, body=ticket.body, language=ticket.language)


def _suggestion(questions: Sequence[QuestionContext], sources: Sequence[Passage]) -> str:
    parts = []
    if sources:
        titles = "; ".join(dict.fromkeys(p.title or p.uri for p in sources[:3]))
        parts.append(f"Answer from: {titles}.")
    unanswered = [q.question for q in questions if not q.answerable]
    if unanswered:
        parts.append(f"No article covers {len(unanswered)} question(s): follow up personally.")
    return " ".join(parts) or "Review the ticket and reply personally."


class DraftingChain:
    """Extract, retrieve per question, draft, self-check; one redraft when a claim is unsupported."""

    def __init__(self, model: DraftingModel, knowledge: KnowledgeSource, policy: RetrievalPolicy) -> None:
        self._model = model
        self._knowledge = knowledge
        self._policy = policy

    def run(self, ticket: TicketAnalyzed) -> Drafted:
        """Draft a checked reply to ``ticket``."""
        text = ticket_text(ticket)
        extracted = self._model.extract(text)
        usage = _add(TokenUsage(), extracted.usage)
        questions = extracted.output.questions or (ticket.summary or ticket.subject or ticket.intent,)
        contexts = tuple(QuestionContext(q, self._retrieve(q)) for q in dict.fromkeys(questions))
        sources = self._sources(contexts)
        request = DraftRequest(ticket=text, questions=contexts, facts=extracted.output.facts)

        drafted = self._model.draft(request)
        checked = self._model.check(drafted.output, sources)
        usage = _add(_add(usage, drafted.usage), checked.usage)
        unsupported = [c for c in checked.output if not c.supported]
        redrafted = bool(unsupported)
        if unsupported:
            feedback = tuple(c.text for c in unsupported)
            drafted = self._model.draft(
                DraftRequest(ticket=text, questions=contexts, facts=request.facts, unsupported_feedback=feedback)
            )
            checked = self._model.check(drafted.output, sources)
            usage = _add(_add(usage, drafted.usage), checked.usage)
            unsupported = [c for c in checked.output if not c.supported]

        reply, unfilled = fill_placeholders(drafted.output, request.facts)
        unanswered = [UNANSWERED_PREFIX + q.question for q in contexts if not q.answerable]
        grounded = not unsupported and not unanswered and bool(sources)
        logger.info(
            "reply drafted",
            extra={
                "questions": len(contexts),
                "unanswered": len(unanswered),
                "sources": len(sources),
                "unsupported": len(unsupported),
                "redrafted": redrafted,
                "grounded": grounded,
            },
        )
        return Drafted(
            draft=reply,
            sources=sources,
            grounded=grounded,
            unsupported_claims=tuple([*(c.text for c in unsupported), *unanswered]),
            unfilled_placeholders=tuple(unfilled),
            suggested_solution=_suggestion(contexts, sources),
            model_id=drafted.model_id,
            usage=usage,
            redrafted=redrafted,
        )

    def _retrieve(self, question: str) -> tuple[Passage, ...]:
        found = self._knowledge.retrieve(question, self._policy.per_question)
        kept = [
            Passage(text=p.text, uri=p.source_uri, title=p.title, score=p.score)
            for p in found
            if p.score >= self._policy.min_score and p.text.strip()
        ]
        return tuple(sorted(kept, key=lambda p: -p.score)[: self._policy.per_question])

    def _sources(self, contexts: Sequence[QuestionContext]) -> tuple[Passage, ...]:
        best: dict[tuple[str, str], Passage] = {}
        for passage in (p for c in contexts for p in c.passages):
            # The same passage retrieved for two questions counts once, at its best score.
            key = (passage.uri, passage.text)
            if key not in best or passage.score > best[key].score:
                best[key] = passage
        return tuple(sorted(best.values(), key=lambda p: -p.score)[: self._policy.max_sources])


def _cited(passages: Sequence[Passage]) -> list[DraftSource]:
    """One source per document (its best passage's score), best first."""
    best: dict[str, Passage] = {}
    for passage in passages:
        if passage.uri not in best or passage.score > best[passage.uri].score:
            best[passage.uri] = passage
    ranked = sorted(best.values(), key=lambda p: -p.score)
    return [DraftSource(uri=p.uri, title=p.title, score=max(p.score, 0.0)) for p in ranked]


def response_drafted(
    ticket: TicketAnalyzed, drafted: Drafted, *, for_escalation: bool, event_id: str | None = None
) -> ResponseDrafted:
    """The event for ``drafted``: a follow-up of the ticket (or of a task, with ``event_id``)."""
    extra = {"event_id": event_id} if event_id else {}
    return ticket.follow_up(
        ResponseDrafted,
        ticket_id=ticket.ticket_id,
        customer_id=ticket.customer_id,
        draft=drafted.draft,
        language=ticket.language,
        sources=_cited(drafted.sources),
        grounded=drafted.grounded,
        unsupported_claims=list(drafted.unsupported_claims),
        unfilled_placeholders=list(drafted.unfilled_placeholders),
        suggested_solution=drafted.suggested_solution,
        for_escalation=for_escalation,
        model_id=drafted.model_id,
        usage=drafted.usage,
        **extra,
    )


class DraftingService:
    """The bus path: a non-escalated ticket gets a drafted reply on the bus."""

    def __init__(self, chain: DraftingChain, publisher: EventPublisher) -> None:
        self._chain = chain
        self._publisher = publisher

    def process(self, ticket: TicketAnalyzed) -> ResponseDrafted:
        """Draft, publish and return the ``ResponseDrafted``."""
        event = response_drafted(ticket, self._chain.run(ticket), for_escalation=False)
        self._publisher.publish([event])
        return event
