"""Bedrock client overhead over raw boto3 Converse, and first-token latency through ConverseStream."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3

from supportflow.bedrock_offline.server import OfflineBedrock
from workers.shared.bedrock import BedrockClient, BedrockSettings, NullMetrics, NullTracer
from workers.shared.bedrock.runtime import botocore_config

N = int(os.environ.get("BENCH_BEDROCK_N", "200"))
MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Where is my parcel? Order 4411 was due last week."}]}]
SYSTEM = [{"text": "You are a support agent."}]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _time(call: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    """Boot OfflineBedrock, time raw boto3 vs the client, print a table."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        os.environ.setdefault(key, value)
    server = OfflineBedrock(faults=[])
    url = server.start()
    try:
        settings = BedrockSettings(use_count_tokens_api=False)
        raw = boto3.client("bedrock-runtime", endpoint_url=url, config=botocore_config(settings))
        # The same single boto3 client under both, so the difference is this module's work.
        client = BedrockClient(raw, settings, NullMetrics(), tracer=NullTracer())
        counted = BedrockClient(raw, BedrockSettings(), NullMetrics(), tracer=NullTracer())
        inference = {"maxTokens": 256}

        def raw_converse() -> None:
            raw.converse(modelId=MODEL, messages=MESSAGES, system=SYSTEM, inferenceConfig=inference)  # type: ignore[arg-type]

        def client_converse() -> None:
            client.converse("classification", MESSAGES, system=SYSTEM, inference=inference)

        def counted_converse() -> None:
            counted.converse("classification", MESSAGES, system=SYSTEM, inference=inference)

        for warm in (raw_converse, client_converse, counted_converse):
            _time(warm, 10)
        # Interleave so drift on a shared machine hits both sides alike.
        raw_ms, client_ms, counted_ms = [], [], []
        for _ in range(N):
            raw_ms += _time(raw_converse, 1)
            client_ms += _time(client_converse, 1)
            counted_ms += _time(counted_converse, 1)
        overhead = [c - r for c, r in zip(client_ms, raw_ms, strict=True)]

        first_token: list[float] = []
        stream_raw: list[float] = []
        for _ in range(N):
            result = client.converse_stream("classification", MESSAGES, system=SYSTEM, inference=inference)
            first_token.append(result.first_token_ms or 0.0)
            started = time.perf_counter()
            response = raw.converse_stream(modelId=MODEL, messages=MESSAGES, system=SYSTEM, inferenceConfig=inference)  # type: ignore[arg-type]
            for event in response["stream"]:
                if "contentBlockDelta" in event:
                    stream_raw.append((time.perf_counter() - started) * 1000)
                    break
            for _event in response["stream"]:
                pass

        rows = [
            ("raw boto3 converse", raw_ms),
            ("BedrockClient.converse (estimate)", client_ms),
            ("BedrockClient.converse (+CountTokens)", counted_ms),
            ("overhead per call (client - raw)", overhead),
            ("first token, raw converse_stream", stream_raw),
            ("first token, BedrockClient stream", first_token),
        ]
        print(f"offline Bedrock at {url}; N={N} calls each; milliseconds")
        print(f"{'measure':<40} {'median':>9} {'p95':>9}")
        for name, samples in rows:
            median, p95 = _percentiles(samples)
            print(f"{name:<40} {median:>9.2f} {p95:>9.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
