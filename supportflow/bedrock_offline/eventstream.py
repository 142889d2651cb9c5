"""Encoder for the ``application/vnd.amazon.eventstream`` binary framing Bedrock streams use."""

from __future__ import annotations

import binascii
import json
import struct
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING_HEADER = 7


def _crc32(data: bytes, seed: int = 0) -> int:
    return binascii.crc32(data, seed) & 0xFFFFFFFF


def encode_headers(headers: dict[str, str]) -> bytes:
    """Encode string-valued headers (name-len u8, name, type 7, value-len u16, value)."""
    out = bytearray()
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING_HEADER, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """Frame one message: prelude (total, headers length, CRC), headers, payload, message CRC."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude_crc = struct.pack(">I", _crc32(prelude))
    body = prelude + prelude_crc + raw_headers + payload
    return body + struct.pack(">I", _crc32(body))


def event_frame(event_type: str, payload: dict[str, Any]) -> bytes:
    """Frame a JSON event such as ``contentBlockDelta`` or ``chunk``."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, json.dumps(payload, separators=(",", ":")).encode("utf-8"))


def exception_frame(exception_type: str, message: str) -> bytes:
    """Frame a modelled exception (e.g. ``throttlingException``) that botocore raises mid-stream."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"message": message}).encode("utf-8"))
