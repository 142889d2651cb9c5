"""Classification's rules: a ticket's text in, its intent against the taxonomy out. No AWS in here."""

from __future__ import annotations

from typing import Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from schemas.events import TicketAccepted, TicketClassified, TokenUsage
from workers.classify.taxonomy import Taxonomy
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

MAX_SUMMARY_CHARS = 500
MAX_KEY_ISSUES = 10


class TicketText(BaseModel):
    """What a classifier reads of a ticket: its redacted text and language, nothing about the customer."""

    model_config = ConfigDict(frozen=True)

    subject: str
    body: str
    language: str = "en"


class Classification(BaseModel):
    """A classifier's answer, with what the answer cost."""

    model_config = ConfigDict(frozen=True)

    intent: str
    category: str
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str = ""
    key_issues: tuple[str, ...] = ()
    model_id: str
    usage: TokenUsage = Field(default_factory=TokenUsage)


class Classifier(Protocol):
    """Anything that classifies a ticket against a taxonomy (Bedrock today; another one measured later)."""

    def classify(self, ticket: TicketText) -> Classification:
        """The ticket's intent, category, confidence, summary and key issues; raises if it cannot answer."""
        ...


class UnknownIntent(ValueError):
    """A classifier answered with an intent outside the taxonomy: its record fails and is retried."""


class ClassificationService:
    """Classifies accepted tickets and publishes ``TicketClassified``."""

    def __init__(
        self, classifier: Classifier, publisher: EventPublisher, taxonomy: Taxonomy, review_threshold: float
    ) -> None:
        self._classifier = classifier
        self._publisher = publisher
        self._taxonomy = taxonomy
        self._review_threshold = review_threshold

    def process(self, ticket: TicketAccepted) -> TicketClassified:
        """Classify one accepted ticket, publish the result and return it."""
        answer = self._classifier.classify(
            TicketText(subject=ticket.subject, body=ticket.body, language=ticket.language)
        )
        classified = self.classified(ticket, answer)
        self._publisher.publish([classified])
        logger.info(
            "ticket classified",
            extra={
                "intent": classified.intent,
                "category": classified.category,
                "confidence": classified.confidence,
                "needs_review": classified.needs_review,
                "model_id": classified.model_id,
            },
        )
        return classified

    def classified(self, ticket: TicketAccepted, answer: Classification) -> TicketClassified:
        """The event for ``answer``: the taxonomy settles the category, the threshold the review flag."""
        try:
            category = self._taxonomy.category_of(answer.intent)
        except KeyError:
            raise UnknownIntent("the classifier answered with an intent outside the taxonomy") from None
        if category != answer.category:
            # The intent is what was asked for; a category that disagrees with it is the model's slip.
            logger.info("category follows the intent", extra={"intent": answer.intent, "category": category})
        issues = [issue.strip()[:200] for issue in answer.key_issues if issue.strip()][:MAX_KEY_ISSUES]
        return ticket.follow_up(
            TicketClassified,
            ticket_id=ticket.ticket_id,
            intent=answer.intent,
            category=category,
            confidence=answer.confidence,
            summary=" ".join(answer.summary.split())[:MAX_SUMMARY_CHARS],
            key_issues=issues,
            needs_review=answer.confidence < self._review_threshold,
            model_id=answer.model_id,
            usage=answer.usage,
        )
