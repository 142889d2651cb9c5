"""Test doubles for the feedback worker: an analyzer that reads the text, and the service's output layout."""

from __future__ import annotations

import re
from typing import Any

from workers.feedback.fakes import InMemoryObjects
from workers.shared.sentiment import Sentiment

_NEGATIVE = {"late", "broken", "worst", "refund", "angry", "never", "useless", "unacceptable", "disappointed"}
_POSITIVE = {"great", "thanks", "love", "excellent", "quick", "happy", "helpful"}


class LexiconAnalyzer:
    """Scores text by counting cue words, so a different text gives a different answer."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def analyze(self, text: str, language: str) -> Sentiment:
        """Label and score from the balance of negative and positive cue words."""
        self.texts.append(text)
        words = re.findall(r"[a-z]+", text.lower())
        balance = sum(w in _POSITIVE for w in words) - sum(w in _NEGATIVE for w in words)
        score = max(-1.0, min(1.0, balance / 3))
        if score <= -0.9:
            label = "very_negative"
        elif score < 0:
            label = "negative"
        elif score > 0:
            label = "positive"
        else:
            label = "neutral"
        return Sentiment(label=label, score=score, model_id=f"lexicon-{language}")


def write_document_output(
    objects: InMemoryObjects, prefix: str, text: str, *, custom: dict[str, Any] | None = None
) -> str:
    """Write a job's output as the service lays it out (odd folder names on purpose); the metadata URI."""
    standard = f"{prefix}/job-1/0/standard_output/seg-a/result.json"
    objects.put_json(
        standard,
        {
            "metadata": {"asset_id": 0, "semantic_modality": "DOCUMENT"},
            "document": {"representation": {"text": text}, "summary": text.split(".", maxsplit=1)[0] + "."},
            "pages": [{"page_index": 0, "representation": {"text": text}}],
        },
    )
    segment: dict[str, Any] = {"segment_index": 0, "standard_output_path": standard}
    if custom is not None:
        custom_uri = f"{prefix}/job-1/0/custom_output/seg-a/result.json"
        objects.put_json(custom_uri, {"matched_blueprint": {"name": "customer-feedback"}, "inference_result": custom})
        segment.update({"custom_output_path": custom_uri, "custom_output_status": "MATCH"})
    metadata = f"{prefix}/job-1/job_metadata.json"
    objects.put_json(
        metadata,
        {
            "job_id": "job-1",
            "job_status": "PROCESSED",
            "output_metadata": [{"asset_id": 0, "segment_metadata": [segment]}],
        },
    )
    return metadata
