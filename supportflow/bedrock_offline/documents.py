"""What the offline Data Automation runtime can read: text, PDF (through pypdf) and pre-transcribed audio JSON.

Anything else, or a file it cannot get text from, is the caller's error (``UnreadableInput``), as BDA answers
a ``ClientError`` for it.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
PDF_SUFFIX = ".pdf"
AUDIO_JSON_SUFFIX = ".json"


class UnreadableInput(ValueError):
    """The input cannot be processed: unsupported type, no text, or a malformed file."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True)
class SourceDocument:
    """The text of one input asset, per page (a document) or per speaker turn (an audio transcript)."""

    modality: str  # "DOCUMENT" or "AUDIO"
    pages: list[str]
    media_type: str
    duration_millis: int = 0
    speakers: list[str] = field(default_factory=list)  # per turn when known

    @property
    def text(self) -> str:
        """All the text, pages separated by a blank line."""
        return "\n\n".join(p for p in self.pages if p)


def read_document(name: str, body: bytes) -> SourceDocument:
    """Extract the text of an input object by its file type; ``UnreadableInput`` when it cannot."""
    lowered = name.lower()
    if lowered.endswith(TEXT_SUFFIXES):
        return _text(body, "text/markdown" if lowered.endswith((".md", ".markdown")) else "text/plain")
    if lowered.endswith(PDF_SUFFIX):
        return _pdf(body)
    if lowered.endswith(AUDIO_JSON_SUFFIX):
        return _audio_transcript(body)
    raise UnreadableInput("UnsupportedFileType", f"unsupported file type: {name.rsplit('/', 1)[-1]}")


def _text(body: bytes, media_type: str) -> SourceDocument:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableInput("InvalidInput", "the text file is not valid UTF-8") from exc
    if not text.strip():
        raise UnreadableInput("InvalidInput", "the document has no text")
    # A form feed is a page break in plain text; most files are one page.
    return SourceDocument("DOCUMENT", [page.strip() for page in text.split("\f")], media_type)


def _pdf(body: bytes) -> SourceDocument:
    from pypdf import PdfReader  # noqa: PLC0415 - only when a PDF arrives
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableInput("InvalidInput", "the PDF could not be parsed") from exc
    if not any(pages):
        raise UnreadableInput("InvalidInput", "the PDF has no extractable text (a scan without a text layer?)")
    return SourceDocument("DOCUMENT", pages, "application/pdf")


def _audio_transcript(body: bytes) -> SourceDocument:
    """Amazon Transcribe output (``results.transcripts[].transcript``) or ``{"transcript": ..., "segments": [...]}``."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise UnreadableInput("InvalidInput", "the transcript JSON could not be parsed") from exc
    if not isinstance(data, dict):
        raise UnreadableInput("UnsupportedFileType", "unsupported file type: JSON that is not a transcript")
    results = data.get("results")
    if isinstance(results, dict) and isinstance(results.get("transcripts"), list):
        turns = [str(t.get("transcript", "")).strip() for t in results["transcripts"] if isinstance(t, dict)]
        return _transcript(turns, _transcribe_duration(results), _transcribe_speakers(results))
    if isinstance(data.get("transcript"), str):
        segments = data.get("segments")
        if isinstance(segments, list) and segments:
            turns = [str(s.get("text", "")).strip() for s in segments if isinstance(s, dict)]
            speakers = [str(s["speaker"]) for s in segments if isinstance(s, dict) and s.get("speaker")]
        else:
            turns, speakers = [data["transcript"].strip()], []
        duration = data.get("duration_millis")
        return _transcript(turns, int(duration) if isinstance(duration, int | float) else 0, speakers)
    raise UnreadableInput("UnsupportedFileType", "unsupported file type: JSON that is not a transcript")


def _transcript(turns: list[str], duration_millis: int, speakers: list[str]) -> SourceDocument:
    turns = [t for t in turns if t]
    if not turns:
        raise UnreadableInput("InvalidInput", "the transcript is empty")
    return SourceDocument("AUDIO", turns, "application/json", duration_millis, speakers)


def _transcribe_duration(results: dict[str, Any]) -> int:
    ends = [
        float(item["end_time"]) for item in results.get("items", []) if isinstance(item, dict) and "end_time" in item
    ]
    return round(max(ends) * 1000) if ends else 0


def _transcribe_speakers(results: dict[str, Any]) -> list[str]:
    labels = results.get("speaker_labels")
    if not isinstance(labels, dict):
        return []
    return [str(s.get("speaker_label")) for s in labels.get("segments", []) if isinstance(s, dict)]
