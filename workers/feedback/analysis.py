"""From what feedback says to ``FeedbackAnalyzed``: sentiment through the shared analyzer, one event out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from schemas.events import FeedbackAnalyzed
from workers.feedback.models import FeedbackJob
from workers.feedback.results import Extraction
from workers.shared.sentiment import SentimentAnalyzer

logger = Logger(child=True)

SUMMARY_CHARS = 400
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class FeedbackEmpty(ValueError):
    """The document was read but holds no text to analyse."""


def summarise(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The leading sentences of ``text`` within ``limit`` characters (the inline path has no BDA summary)."""
    flat = " ".join(text.split())
    summary = ""
    for sentence in _SENTENCE_END.split(flat):
        if summary and len(summary) + len(sentence) + 1 > limit:
            break
        summary = f"{summary} {sentence}".strip()
    return summary[:limit]


@dataclass(frozen=True)
class FeedbackAnalyst:
    """Reads the sentiment of feedback's text and builds the event that says what it holds."""

    analyzer: SentimentAnalyzer
    max_chars: int = 8000

    def analyze(
        self, job: FeedbackJob, extraction: Extraction, event_id: str, output_uri: str | None = None
    ) -> FeedbackAnalyzed:
        """``FeedbackAnalyzed`` for ``job`` from ``extraction``; ``FeedbackEmpty`` when there is no text."""
        text = extraction.text.strip()
        if not text:
            raise FeedbackEmpty("the document holds no text")
        language = extraction.fields.get("language")
        sentiment = self.analyzer.analyze(text[: self.max_chars], language if isinstance(language, str) else "en")
        analyzed = FeedbackAnalyzed(
            event_id=event_id,
            correlation_id=job.correlation_id,
            tenant_id=job.tenant_id,
            feedback_id=job.feedback_id,
            customer_id=job.customer_id or extraction.customer_id,
            summary=extraction.summary or summarise(text),
            sentiment=sentiment.label,
            sentiment_score=sentiment.score,
            topics=extraction.topics[:10],
            fields=extraction.fields,
            document_uri=job.document_uri or None,
            output_uri=output_uri,
        )
        logger.info(
            "feedback analyzed",
            extra={
                "feedback_id": job.feedback_id,
                "sentiment": analyzed.sentiment,
                "topics": len(analyzed.topics),
                "fields": len(analyzed.fields),
                "model_id": sentiment.model_id,
            },
        )
        return analyzed
