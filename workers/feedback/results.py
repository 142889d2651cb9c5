"""Reading a Data Automation job's output: job_metadata.json, then the result files it points at.

Paths are always taken from ``output_metadata[].segment_metadata[]`` (``standard_output_path`` /
``custom_output_path``): the layout under the output prefix is the service's to choose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from workers.feedback.ports import ObjectStore, OutputInvalid

MAX_TOPICS = 10
MAX_FIELD_CHARS = 300


class _Segment(BaseModel):
    model_config = ConfigDict(extra="ignore")

    standard_output_path: str | None = None
    custom_output_path: str | None = None
    custom_output_status: str | None = None


class _Asset(BaseModel):
    model_config = ConfigDict(extra="ignore")

    segment_metadata: list[_Segment] = []


class JobMetadata(BaseModel):
    """``job_metadata.json``: the job and, per asset and segment, where its outputs are."""

    model_config = ConfigDict(extra="ignore")

    job_id: str = ""
    job_status: str = ""
    semantic_modality: str = ""
    output_metadata: list[_Asset] = []


@dataclass
class Extraction:
    """What the outputs say: the text, a summary, topics and a blueprint's scalar fields."""

    text: str = ""
    summary: str = ""
    topics: list[str] = field(default_factory=list)
    fields: dict[str, str | int | float | bool | None] = field(default_factory=dict)
    customer_id: str | None = None


def read_extraction(store: ObjectStore, metadata_uri: str) -> Extraction:
    """Follow job_metadata.json to every segment's standard and custom output; ``OutputInvalid`` if none."""
    try:
        metadata = JobMetadata.model_validate(store.read_json(metadata_uri))
    except ValidationError:
        raise OutputInvalid("job_metadata.json does not have the documented shape") from None
    segments = [segment for asset in metadata.output_metadata for segment in asset.segment_metadata]
    if not any(segment.standard_output_path for segment in segments):
        raise OutputInvalid("job_metadata.json names no standard output")
    extraction = Extraction()
    texts: list[str] = []
    summaries: list[str] = []
    for segment in segments:
        if segment.standard_output_path:
            text, summary, topics = _standard(store.read_json(segment.standard_output_path))
            texts.append(text)
            summaries.append(summary)
            extraction.topics.extend(topics)
        if segment.custom_output_path:
            _custom(store.read_json(segment.custom_output_path), extraction, summaries)
    extraction.text = "\n\n".join(t for t in texts if t).strip()
    extraction.summary = next((s for s in summaries if s), "") or extraction.text[:MAX_FIELD_CHARS]
    extraction.topics = list(dict.fromkeys(t for t in extraction.topics if t))[:MAX_TOPICS]
    return extraction


def _text_at(node: Any, *path: str) -> str:
    for name in path:
        if not isinstance(node, dict):
            return ""
        node = node.get(name)
    return node.strip() if isinstance(node, str) else ""


def _standard(result: Any) -> tuple[str, str, list[str]]:
    """(text, summary, topics) of one standard output, whatever its modality."""
    if not isinstance(result, dict):
        raise OutputInvalid("standard output is not a JSON object")
    if "audio" in result:
        audio = result["audio"]
        topics = [_text_at(t, "summary") for t in audio.get("topics", []) if isinstance(t, dict)]
        return _text_at(audio, "transcript", "representation", "text"), _text_at(audio, "summary"), topics
    document = result.get("document", {})
    text = _text_at(document, "representation", "text")
    if not text:
        pages = [_text_at(page, "representation", "text") for page in result.get("pages", [])]
        text = "\n\n".join(p for p in pages if p)
    return text, _text_at(document, "summary") or _text_at(document, "description"), []


def _custom(result: Any, extraction: Extraction, summaries: list[str]) -> None:
    """Merge a blueprint's ``inference_result``: topics, summary, customer id and scalar fields."""
    inference = result.get("inference_result") if isinstance(result, dict) else None
    if not isinstance(inference, dict):
        return
    for name, value in inference.items():
        if name == "topics" and isinstance(value, list):
            extraction.topics[:0] = [str(v) for v in value if isinstance(v, str | int)]
        elif name == "summary" and isinstance(value, str) and value.strip():
            summaries.insert(0, value.strip())
        elif name == "customer_id":
            # The blueprint answers "" when the text names no customer: that is no customer, not a field.
            found = value.strip() if isinstance(value, str) else ""
            extraction.customer_id = extraction.customer_id or found or None
        elif isinstance(value, str):
            extraction.fields[name] = value[:MAX_FIELD_CHARS]
        elif value is None or isinstance(value, bool | int | float):
            extraction.fields[name] = value
        elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
            # A list field (order ids, emails) travels as one comma-separated value.
            extraction.fields[name] = ", ".join(str(item) for item in value)[:MAX_FIELD_CHARS]
