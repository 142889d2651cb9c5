"""Offline Bedrock: startup, server-side latency per Converse call, first-token latency of a stream."""

from __future__ import annotations

import statistics
import time
from typing import Any

import boto3

from supportflow.bedrock_offline.server import OfflineBedrock

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
TEXTS = [
    "Where is my refund for order 884213, this is the third time I ask",
    "How long does delivery to Spain take",
    "I forgot my password and cannot log in",
    "Please cancel the order I placed yesterday",
    "Thanks so much, the replacement works perfectly",
]
TOOL: dict[str, Any] = {
    "tools": [
        {
            "toolSpec": {
                "name": "classify_ticket",
                "description": "Classify a ticket.",
                "inputSchema": {
                    "json": {
                        "type": "object",
                        "properties": {
                            "intent": {
                                "type": "string",
                                "enum": ["get_refund", "delivery_period", "recover_password", "cancel_order", "review"],
                            },
                            "sentiment": {
                                "type": "string",
                                "enum": ["very_negative", "negative", "neutral", "positive"],
                            },
                            "summary": {"type": "string"},
                        },
                        "required": ["intent", "sentiment", "summary"],
                    }
                },
            }
        }
    ],
    "toolChoice": {"any": {}},
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(rounds: int = 8) -> None:
    """Print startup time and per-call latencies (ms)."""
    started = time.perf_counter()
    server = OfflineBedrock()
    url = server.start()
    print(f"startup (model + cached bank + warm-up): {1000 * (time.perf_counter() - started):.0f} ms")
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        kinds: list[tuple[str, dict[str, Any]]] = [("converse text", {}), ("converse tool", {"toolConfig": TOOL})]
        for name, kwargs in kinds:
            server_ms: list[float] = []
            wall_ms: list[float] = []
            for i in range(rounds):
                # A fresh suffix per round so the embedding LRU does not hide the real cost.
                text = f"{TEXTS[i % len(TEXTS)]} for case {i} of {name}"
                t0 = time.perf_counter()
                out = client.converse(
                    modelId=MODEL_ID, messages=[{"role": "user", "content": [{"text": text}]}], **kwargs
                )
                wall_ms.append(1000 * (time.perf_counter() - t0))
                server_ms.append(float(out["metrics"]["latencyMs"]))
            print(
                f"{name:<14} server p50 {statistics.median(server_ms):.0f} ms, p90 {_pct(server_ms, 0.9):.0f} ms; "
                f"client wall p50 {statistics.median(wall_ms):.0f} ms"
            )
        ttft: list[float] = []
        for i in range(rounds):
            t0 = time.perf_counter()
            stream = client.converse_stream(
                modelId=MODEL_ID, messages=[{"role": "user", "content": [{"text": f"{TEXTS[1]} for stream case {i}"}]}]
            )["stream"]
            for event in stream:
                if "contentBlockDelta" in event and len(ttft) == i:
                    ttft.append(1000 * (time.perf_counter() - t0))
        print(f"converse-stream first token p50 {statistics.median(ttft):.0f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
