"""Public REST API figures: p50 / p95 latency per route through the local gateway (authorizer, validator, function).

The first call of a key runs the authorizer; the rest reuse its cached answer (TTL 60 s), as on AWS.
POST /chat includes one offline-Bedrock Converse call; POST /queries only queues.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from supportflow.local import EmulatedStack
from workers.authorizer.tenants import DynamoDBTenantDirectory, Tenant

CALLS_PER_ROUTE = 40
WARMUP_CALLS = 3


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * fraction) - 1)]


def _register(stack: EmulatedStack) -> str:
    apigateway = stack.client("apigateway")
    value = f"bench-{uuid.uuid4().hex}"
    key = apigateway.create_api_key(name=f"bench-{value[-6:]}", enabled=True, value=value)
    apigateway.create_usage_plan_key(
        usagePlanId=stack.outputs["PublicApiUsagePlanId"], keyId=key["id"], keyType="API_KEY"
    )
    directory = DynamoDBTenantDirectory(stack.outputs["TenantsTableName"], client=stack.client("dynamodb"))
    directory.register(Tenant(tenant_id="bench", daily_token_limit=10**9, monthly_token_limit=10**10), value)
    return value


def _measure(call: Callable[[], requests.Response], expected: int) -> list[float]:
    for _ in range(WARMUP_CALLS):
        call()
    samples = []
    for _ in range(CALLS_PER_ROUTE):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != expected:
            msg = f"unexpected {response.status_code}: {response.text[:200]}"
            raise RuntimeError(msg)
    return samples


def main(results: dict[str, Any] | None = None) -> None:
    """Print p50 / p95 per route; with ``results``, record them under ``api``."""
    log_dir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    with EmulatedStack.start(workers=False, stage=f"b{uuid.uuid4().hex[:6]}", log_dir=log_dir) as stack:
        url = stack.apis["PublicApi"].url
        session = requests.Session()
        session.headers["x-api-key"] = _register(stack)

        def post(path: str, body: dict[str, Any]) -> Callable[[], requests.Response]:
            return lambda: session.post(f"{url}{path}", json=body, timeout=30)

        def get(path: str) -> Callable[[], requests.Response]:
            return lambda: session.get(f"{url}{path}", timeout=30)

        ticket = {"subject": "Bench", "description": "A benchmark ticket.", "customer": {"customer_id": "c-b"}}
        chat = session.post(f"{url}/chat", json={"message": "hello"}, timeout=30).json()
        queued = session.post(f"{url}/queries", json={"queries": [{"question": "Why?"}]}, timeout=30).json()
        routes: list[tuple[str, Callable[[], requests.Response], int]] = [
            ("POST /tickets", post("/tickets", ticket), 202),
            ("GET /tickets/{id} (404)", get("/tickets/absent"), 404),
            ("POST /feedback", post("/feedback", {"text": "Great support"}), 202),
            ("POST /chat (offline model)", post("/chat", {"message": "hello"}), 200),
            ("GET /chat/sessions/{id}", get(f"/chat/sessions/{chat['session_id']}"), 200),
            ("POST /queries", post("/queries", {"queries": [{"question": "Why?"}]}), 202),
            ("GET /queries/{id}", get(f"/queries/{queued['query_ids'][0]}"), 200),
            ("POST /tickets, invalid body (gateway 400)", post("/tickets", {"subject": ""}), 400),
        ]
        figures: dict[str, dict[str, float]] = {}
        for name, call, expected in routes:
            samples = _measure(call, expected)
            figures[name] = {
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(_percentile(samples, 0.95), 1),
            }
    width = max(len(name) for name in figures)
    for name, figure in figures.items():
        print(
            f"  {name:<{width}}  p50 {figure['p50_ms']:>6.1f} ms  p95 {figure['p95_ms']:>6.1f} ms (n={CALLS_PER_ROUTE})"
        )
    if results is not None:
        results["api"] = figures


if __name__ == "__main__":
    main()
