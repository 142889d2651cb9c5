"""Batch records: the Anthropic messages body each item is sent as, the JSONL, and the ``.jsonl.out`` parse.

Output records are joined to input records on ``recordId`` (AWS does not promise the input's order). A
record with ``error``, or whose output does not hold a valid enrichment, is reported as a ``RecordError``
and retried on demand; it is never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from schemas.events import RecordError
from workers.enrichment.models import BatchRecord, CatalogItem, Enrichment
from workers.shared.bedrock.result import Usage

TOOL_NAME = "record_enrichment"
ANTHROPIC_VERSION = "bedrock-2023-05-31"
MAX_TOKENS = 800
SYSTEM = (
    "You enrich a retail catalog. For the item given, call record_enrichment with: up to 8 short lower-case "
    "search tags; a one- or two-sentence summary for search results; and up to 3 questions a customer would "
    "ask about it, each answered only from the item's text. Never invent facts the text does not state."
)
MAX_MESSAGE = 300


def item_prompt(item: CatalogItem) -> str:
    """The user turn for one item."""
    return f"Kind: {item.kind}\nCategory: {item.category or 'none'}\nTitle: {item.title}\n\n{item.text}"


def model_input(item: CatalogItem) -> dict[str, Any]:
    """The InvokeModel (Anthropic messages) body for one item, forcing the enrichment tool."""
    return {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": MAX_TOKENS,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": [{"type": "text", "text": item_prompt(item)}]}],
        "tools": [
            {
                "name": TOOL_NAME,
                "description": "Record the item's tags, summary and FAQ answers.",
                "input_schema": Enrichment.model_json_schema(),
            }
        ],
        "tool_choice": {"type": "tool", "name": TOOL_NAME},
    }


def record_id(item: CatalogItem) -> str:
    """The record's id: the item and its content version, so a redelivered run writes the same records."""
    return f"{item.item_id}-{item.content_hash[:8]}"


def jsonl(items: Sequence[CatalogItem]) -> tuple[str, list[BatchRecord]]:
    """The batch input file for ``items`` and the records it holds."""
    records = [BatchRecord(record_id=record_id(i), item_id=i.item_id, content_hash=i.content_hash) for i in items]
    lines = [
        json.dumps({"recordId": r.record_id, "modelInput": model_input(i)}, ensure_ascii=False)
        for r, i in zip(records, items, strict=True)
    ]
    return "".join(line + "\n" for line in lines), records


def read_input(body: str) -> dict[str, dict[str, Any]]:
    """``recordId`` -> ``modelInput`` of a batch input file."""
    out: dict[str, dict[str, Any]] = {}
    for line in body.splitlines():
        if line.strip():
            row = json.loads(line)
            out[str(row["recordId"])] = row["modelInput"]
    return out


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line within ``limit`` characters."""
    return " ".join(str(text).split())[:limit] or "no message"


def enrichment_from_message(message: Mapping[str, Any]) -> Enrichment:
    """The enrichment in an Anthropic messages response: the forced tool's input, else a JSON text block."""
    content = message.get("content") or []
    for block in content:
        if isinstance(block, Mapping) and block.get("type") == "tool_use" and block.get("name") == TOOL_NAME:
            return Enrichment.model_validate(block.get("input"))
    for block in content:
        if isinstance(block, Mapping) and block.get("type") == "text":
            return Enrichment.model_validate_json(str(block.get("text", "")))
    raise ValueError("the output holds neither the enrichment tool call nor JSON text")


@dataclass
class ParsedOutput:
    """A job's output joined to its input records."""

    enriched: dict[str, Enrichment] = field(default_factory=dict)  # by record id
    errors: list[RecordError] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def parse_output(lines: Iterable[str], records: Sequence[BatchRecord]) -> ParsedOutput:
    """Join ``.jsonl.out`` lines to ``records`` on recordId; an input record with no output line is an error."""
    by_id = {r.record_id: r for r in records}
    parsed = ParsedOutput()
    seen: set[str] = set()
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        rid = str(row.get("recordId", ""))
        record = by_id.get(rid)
        if record is None or rid in seen:
            continue  # not one of ours (or a duplicate line): joining by position would mis-assign it
        seen.add(rid)
        output = row.get("modelOutput")
        if output:
            usage = output.get("usage") or {}
            parsed.usage += Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)))
        error = row.get("error")
        if error:
            code = str(error.get("errorCode", "error")) if isinstance(error, Mapping) else "error"
            text = error.get("errorMessage", "") if isinstance(error, Mapping) else str(error)
            parsed.errors.append(_error(record, code, str(text)))
            continue
        try:
            parsed.enriched[rid] = enrichment_from_message(output or {})
        except (ValueError, ValidationError) as problem:
            parsed.errors.append(_error(record, "OutputInvalid", str(problem)))
    for rid, record in by_id.items():
        if rid not in seen:
            parsed.errors.append(_error(record, "MissingOutput", "the job wrote no output for this record"))
    return parsed


def _error(record: BatchRecord, code: str, message: str) -> RecordError:
    return RecordError(record_id=record.record_id, item_id=record.item_id, code=code[:64], message=one_line(message))
