"""The Data Automation output layout, computed from the input's text (nothing canned).

Under ``<output prefix>/<invocation id>/``: ``job_metadata.json`` pointing at
``0/standard_output/0/result.json`` and, when a blueprint or project asks for custom output,
``0/custom_output/0/result.json`` — the paths are taken from ``job_metadata.json`` by readers, never built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from supportflow.bedrock_offline import extract
from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.documents import SourceDocument
from supportflow.bedrock_offline.emulator_link import S3Location
from supportflow.bedrock_offline.text import detect_language, keywords, summarise

# "customer id C-42", "Customer #: C-42", "account C-42" ... or a bare C-<digits> as the CRM writes them.
_CUSTOMER_ID = re.compile(
    r"(?:customer|client|account)\s*(?:id|number|no\.?|#)?\s*[:#]?\s*([A-Z]{1,4}-?\d{1,10})\b|\b(C-\d{1,10})\b",
    re.IGNORECASE,
)
SUMMARY_CHARS = 400
DESCRIPTION_CHARS = 160
TOPIC_COUNT = 5
FEEDBACK_BLUEPRINT = "customer-feedback"


@dataclass(frozen=True)
class Blueprint:
    """The blueprint whose fields the custom output carries (from the request's blueprint or project ARN)."""

    arn: str
    name: str


def customer_id(text: str) -> str | None:
    """The first customer id the text names, upper-cased, else None."""
    match = _CUSTOMER_ID.search(text)
    if match is None:
        return None
    return (match.group(1) or match.group(2)).upper()


def standard_output(document: SourceDocument, brain: Brain, location: S3Location) -> dict[str, Any]:
    """``standard_output/0/result.json``: the text, its pages/elements or transcript, and a summary."""
    text = document.text
    metadata = {
        "asset_id": 0,
        "semantic_modality": document.modality,
        "s3_bucket": location.bucket,
        "s3_key": location.key,
    }
    summary = summarise(text, SUMMARY_CHARS)
    if document.modality == "AUDIO":
        metadata["duration_millis"] = document.duration_millis
        return {
            "metadata": metadata,
            "audio": {
                "summary": summary,
                "topics": [{"topic_index": i, "summary": word} for i, word in enumerate(keywords(text, TOPIC_COUNT))],
                "transcript": {"representation": {"text": text}},
                "audio_segments": [
                    {"start_timestamp_millis": 0, "end_timestamp_millis": 0, "text": turn, "speaker": speaker}
                    for turn, speaker in zip(document.pages, _speaker_per_turn(document), strict=True)
                ],
            },
            "statistics": {"word_count": len(text.split()), "speaker_count": len(set(filter(None, document.speakers)))},
        }
    metadata["number_of_pages"] = len(document.pages)
    elements = _elements(document)
    return {
        "metadata": metadata,
        "document": {
            "representation": {"text": text, "markdown": _markdown(document)},
            "description": summarise(text, DESCRIPTION_CHARS),
            "summary": summary,
            "statistics": {
                "element_count": len(elements),
                "table_count": 0,
                "figure_count": 0,
                "word_count": len(text.split()),
                "line_count": sum(len(p.splitlines()) for p in document.pages),
            },
        },
        "pages": [
            {
                "page_index": index,
                "representation": {"text": page, "markdown": page},
                "statistics": {"element_count": sum(1 for e in elements if e["page_indices"] == [index])},
            }
            for index, page in enumerate(document.pages)
        ],
        "elements": elements,
    }


def custom_output(document: SourceDocument, brain: Brain, blueprint: Blueprint) -> dict[str, Any]:
    """``custom_output/0/result.json``: the feedback blueprint's fields, read from the text."""
    text = document.text
    sentiment = brain.sentiment(text)
    found = customer_id(text)
    inference: dict[str, Any] = {
        "summary": summarise(text, SUMMARY_CHARS),
        "sentiment": sentiment.label,
        "sentiment_score": round(sentiment.score, 3),
        "topics": keywords(text, TOPIC_COUNT),
        "customer_id": found or "",
        "language": detect_language(text),
        "order_ids": [i for i in extract.identifiers(text) if i != found],
        "emails": extract.emails(text),
    }
    return {
        "matched_blueprint": {"arn": blueprint.arn, "name": blueprint.name, "confidence": 1},
        "document_class": {"type": blueprint.name},
        "split_document": {"page_indices": list(range(len(document.pages)))},
        "inference_result": inference,
        "explainability_info": [
            {name: {"success": bool(value), "confidence": 0.9 if value else 0.0} for name, value in inference.items()}
        ],
    }


def job_metadata(
    job_id: str, document: SourceDocument, standard: S3Location, custom: S3Location | None
) -> dict[str, Any]:
    """``job_metadata.json``: one asset, one segment, the paths of its outputs."""
    segment: dict[str, Any] = {"segment_index": 0, "standard_output_path": standard.uri}
    if custom is not None:
        segment.update({"custom_output_path": custom.uri, "custom_output_status": "MATCH"})
    return {
        "job_id": job_id,
        "job_status": "PROCESSED",
        "semantic_modality": document.modality,
        "output_metadata": [{"asset_id": 0, "segment_metadata": [segment]}],
    }


def _elements(document: SourceDocument) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    for page_index, page in enumerate(document.pages):
        for paragraph in (p.strip() for p in re.split(r"\n\s*\n", page)):
            if not paragraph:
                continue
            elements.append(
                {
                    "id": f"{page_index}-{len(elements)}",
                    "type": "TEXT",
                    "sub_type": "TITLE" if paragraph.startswith("#") else "PARAGRAPH",
                    "representation": {"text": paragraph.lstrip("# "), "markdown": paragraph},
                    "page_indices": [page_index],
                    "reading_order": len(elements),
                }
            )
    return elements


def _markdown(document: SourceDocument) -> str:
    return "\n\n".join(document.pages) if document.media_type == "text/markdown" else document.text


def _speaker_per_turn(document: SourceDocument) -> list[str]:
    if len(document.speakers) == len(document.pages):
        return document.speakers
    return [""] * len(document.pages)
