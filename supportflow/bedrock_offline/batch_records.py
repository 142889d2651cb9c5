"""Batch inference records: parsing the JSONL input and answering one record as InvokeModel/Converse would."""

from __future__ import annotations

import json
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from supportflow.bedrock_offline.conversation import (
    BedrockError,
    check_max_tokens,
    parse_anthropic,
    parse_converse,
    validation,
)
from supportflow.bedrock_offline.engine import Engine
from supportflow.bedrock_offline.wire import anthropic_message, converse_block, usage

# Anywhere in a record's modelInput: that record fails with a 500 error (a test's way to force one).
RECORD_ERROR_MARKER = "[[supportflow:record-error]]"
_RECORD_ID_CHARS = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Record:
    """One input line: its id and the model input as given (any JSON value)."""

    record_id: str
    model_input: Any


@dataclass(frozen=True)
class RecordResult:
    """One output line: the model output or the error that replaced it, and the tokens it used."""

    record: Record
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    def line(self) -> dict[str, Any]:
        """The ``.jsonl.out`` line: ``{recordId, modelInput, modelOutput | error}``."""
        out: dict[str, Any] = {"recordId": self.record.record_id, "modelInput": self.record.model_input}
        if self.error is not None:
            out["error"] = self.error
        else:
            out["modelOutput"] = self.output
        return out


def parse_records(lines: list[str]) -> list[Record]:
    """Each line a JSON object with ``modelInput`` (``recordId`` is generated when absent, as AWS does)."""
    records: list[Record] = []
    for number, line in enumerate(lines, start=1):
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"Validation failed: line {number} of the input is not valid JSON.") from exc
        if not isinstance(data, dict) or "modelInput" not in data:
            raise ValueError(f"Validation failed: line {number} of the input has no modelInput.")
        record_id = data.get("recordId")
        if not isinstance(record_id, str) or not record_id:
            record_id = "".join(secrets.choice(_RECORD_ID_CHARS) for _ in range(11))
        records.append(Record(record_id, data["modelInput"]))
    return records


def answer_record(engine: Engine, model_id: str, invocation_type: str, record: Record) -> RecordResult:
    """Answer one record; a model error becomes the record's ``error`` ({errorCode, errorMessage})."""
    try:
        body = record.model_input
        if not isinstance(body, dict):
            raise validation("Malformed input request: #: expected type: JSONObject, please reformat your input.")
        if RECORD_ERROR_MARKER in json.dumps(body, ensure_ascii=False):
            raise BedrockError(500, "InternalServerException", "The model failed to process this record.")
        if "embed" in model_id:
            raise validation("Embedding models are not served by the offline batch inference.")
        started = time.perf_counter()
        if invocation_type == "Converse":
            conv = parse_converse(model_id, body)
            check_max_tokens(conv)
            result = engine.complete(conv)
            latency = max(1, round((time.perf_counter() - started) * 1000))
            output: dict[str, Any] = {
                "output": {"message": {"role": "assistant", "content": [converse_block(result)]}},
                "stopReason": result.stop_reason,
                "usage": usage(result),
                "metrics": {"latencyMs": latency},
            }
        else:
            conv = parse_anthropic(model_id, body)
            check_max_tokens(conv)
            result = engine.complete(conv)
            output = anthropic_message(result, conv)
    except BedrockError as exc:
        return RecordResult(record, error={"errorCode": exc.status, "errorMessage": exc.message})
    return RecordResult(record, output=output, input_tokens=result.input_tokens, output_tokens=result.output_tokens)
