"""The offline Bedrock's wire pieces without a server: event-stream frames and the fault header."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer

from supportflow.bedrock_offline import eventstream
from supportflow.bedrock_offline.faults import parse_header


def test_eventstream_frame_decodes_with_botocore() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(eventstream.event_frame("chunk", {"bytes": base64.b64encode(b"{}").decode()}))
    buffer.add_data(eventstream.exception_frame("throttlingException", "slow down"))
    decoded: list[Any] = list(buffer)  # the stubs type the iterator loosely
    first, second = decoded
    assert first.headers[":event-type"] == "chunk" and first.headers[":message-type"] == "event"
    assert json.loads(first.payload) == {"bytes": "e30="}
    assert second.headers[":exception-type"] == "throttlingException"
    assert json.loads(second.payload)["message"] == "slow down"


def test_parse_header() -> None:
    fault = parse_header("latency=200, stream-throttle@3")
    assert (fault.http, fault.stream, fault.stream_after, fault.latency_ms) == (None, "stream-throttle", 3, 200)
    with pytest.raises(ValueError, match="unknown fault"):
        parse_header("explode")
