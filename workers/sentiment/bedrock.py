"""The Bedrock sentiment analyzer: one structured Converse call on the ``sentiment`` route (in workers.shared)."""

from __future__ import annotations

from workers.shared.sentiment import MAX_OUTPUT_TOKENS, SYSTEM, TASK, BedrockSentimentAnalyzer, SentimentReading

__all__ = ["MAX_OUTPUT_TOKENS", "SYSTEM", "TASK", "BedrockSentimentAnalyzer", "SentimentReading"]
