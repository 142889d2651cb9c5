"""Sentiment's rules: any customer text in (a ticket today, feedback later), how the customer feels out.

No AWS in here. The analysis takes a text and the subject it belongs to, not a ticket, so the feedback
worker can reuse it as it is.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from schemas.envelope import Event
from schemas.events import SentimentAnalyzed, TicketAccepted
from workers.shared.publisher import EventPublisher
from workers.shared.sentiment import Sentiment, SentimentAnalyzer, Subject

__all__ = ["Sentiment", "SentimentAnalyzer", "SentimentService", "Subject"]

logger = Logger(child=True)

MAX_CUES = 10
MAX_CUE_CHARS = 120


class SentimentService:
    """Analyzes a subject's text and publishes ``SentimentAnalyzed``."""

    def __init__(self, analyzer: SentimentAnalyzer, publisher: EventPublisher) -> None:
        self._analyzer = analyzer
        self._publisher = publisher

    def process(self, ticket: TicketAccepted) -> SentimentAnalyzed:
        """The sentiment of an accepted ticket (subject line and body)."""
        text = f"{ticket.subject}\n\n{ticket.body}" if ticket.subject else ticket.body
        return self.analyze(ticket, Subject(kind="ticket", id=ticket.ticket_id, text=text, language=ticket.language))

    def analyze(self, cause: Event, subject: Subject) -> SentimentAnalyzed:
        """Analyze ``subject``, publish the result as the follow-up of ``cause`` and return it."""
        answer = self._analyzer.analyze(subject.text, subject.language)
        cues = [" ".join(cue.split())[:MAX_CUE_CHARS] for cue in answer.urgency_cues if cue.strip()]
        analyzed = cause.follow_up(
            SentimentAnalyzed,
            subject_id=subject.id,
            subject_kind=subject.kind,
            label=answer.label,
            score=answer.score,
            urgency_cues=list(dict.fromkeys(cues))[:MAX_CUES],
            model_id=answer.model_id,
            usage=answer.usage,
        )
        self._publisher.publish([analyzed])
        logger.info(
            "sentiment analyzed",
            extra={
                "subject_kind": subject.kind,
                "label": analyzed.label,
                "score": analyzed.score,
                "urgency_cues": len(analyzed.urgency_cues),
                "model_id": analyzed.model_id,
            },
        )
        return analyzed
