"""The sentiment analysis core every worker reads customer text with: its models, its port, its Bedrock adapter.

It lives in ``workers.shared`` because two workers analyse customer text (sentiment for tickets, feedback
for documents) and workers never import each other; the sentiment worker keeps its rules and its event.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import SentimentLabel, TokenUsage
from workers.shared.bedrock import BedrockClient

TASK = "sentiment"
MAX_OUTPUT_TOKENS = 300


class Subject(BaseModel):
    """The text to read and what it belongs to."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["ticket", "feedback"]
    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    language: str = "en"


class Sentiment(BaseModel):
    """An analyzer's answer, with what the answer cost."""

    model_config = ConfigDict(frozen=True)

    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0)
    urgency_cues: tuple[str, ...] = ()
    model_id: str
    usage: TokenUsage = Field(default_factory=TokenUsage)


class SentimentAnalyzer(Protocol):
    """Anything that reads how a customer feels from their text."""

    def analyze(self, text: str, language: str) -> Sentiment:
        """Label, score in [-1, 1] and the urgency cues behind them; raises if it cannot answer."""
        ...


SYSTEM = """You read how a customer feels from what they wrote to customer support. Record, with the tool:
- label: very_negative (angry, threatening, at the end of their patience), negative (unhappy, frustrated),
  neutral (a plain request or question) or positive (pleased, grateful);
- score: from -1 (very negative) to +1 (positive), 0 for neutral;
- urgency_cues: the short phrases in the text that signal urgency or escalation risk (deadlines, repeated
  contact, legal or cancellation threats, money lost, service down); none if there are none.
Personal data is already replaced by placeholders such as [EMAIL]; do not guess it."""


class SentimentReading(BaseModel):
    """Record how the customer feels and the urgency cues in their text."""

    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0, description="-1 very negative ... +1 positive.")
    urgency_cues: list[str] = Field(default_factory=list, max_length=5, description="Phrases that signal urgency.")


class BedrockSentimentAnalyzer:
    """Reads sentiment through the shared Bedrock client."""

    def __init__(self, client: BedrockClient) -> None:
        self._client = client

    def analyze(self, text: str, language: str) -> Sentiment:
        """One structured call; the client validates the answer against the schema (and corrects once)."""
        del language  # the model reads any language; kept in the port for analyzers that do not
        result = self._client.structured(
            TASK,
            [{"role": "user", "content": text}],
            SentimentReading,
            system=SYSTEM,
            inference={"maxTokens": MAX_OUTPUT_TOKENS, "temperature": 0.0},
        )
        reading = result.output
        return Sentiment(
            label=reading.label,
            score=reading.score,
            urgency_cues=tuple(reading.urgency_cues),
            model_id=result.model_id,
            usage=TokenUsage(
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
                estimated_cost_usd=result.cost_usd,
            ),
        )
