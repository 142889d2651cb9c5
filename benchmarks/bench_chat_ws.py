"""First chunk over the local WebSocket chat vs first token of a direct ConverseStream, same offline model, same run.

Both send the same request (the chat's system prompt and the question). The WebSocket side is the whole
path a chat turn takes before its first chunk: the frame, the function (connection lookup, budget
reservation, session history, the Bedrock client), the first delta posted by boto3's
``apigatewaymanagementapi`` client to ``@connections`` and pushed down the socket. Goal: under 10 ms
over the direct stream.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import boto3
from websockets.sync.client import ClientConnection, connect

from supportflow.local.websocket import WebSocketApiSpec, WebSocketGateway
from workers.authorizer.logic import Authorizer
from workers.authorizer.policy import authorize
from workers.authorizer.tenants import InMemoryTenantDirectory, Tenant
from workers.chat_ws.dispatch import CORRELATION_PATH, handle_event
from workers.chat_ws.fakes import InMemoryConnectionStore, InMemorySessionStore
from workers.chat_ws.logic import SYSTEM_PROMPT
from workers.chat_ws.wiring import ChatApp, ChatWsSettings, build_app
from workers.shared.bedrock import BedrockClient, BedrockSettings, NullMetrics, NullTracer
from workers.shared.bedrock.runtime import botocore_config
from workers.shared.budgets import InMemoryBudgetStore, TokenBudget
from workers.shared.runtime.function import function_worker

N = int(os.environ.get("BENCH_CHAT_WS_N", "100"))
QUESTION = "Where is my parcel? Order 4411 was due last week."
GOAL_MS = 10.0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    msg = f"offline Bedrock not listening on {port} after {timeout} s"
    raise RuntimeError(msg)


def _environment() -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(key, value)


def _start_model() -> tuple[subprocess.Popen[bytes], str]:
    # The model in a process of its own, as the local stack runs it: its CPU work must not take the GIL
    # from the gateway and the function, which would measure the benchmark's layout, not the chat path.
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "supportflow.cli", "bedrock", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_listening(port)
    return server, f"http://127.0.0.1:{port}"


def _start_chat(client: BedrockClient) -> WebSocketGateway:
    budget = TokenBudget(InMemoryBudgetStore())
    tenants = InMemoryTenantDirectory()
    tenants.add(Tenant(tenant_id="bench", daily_token_limit=10**9, monthly_token_limit=10**10), "bench-key")
    authorizer = Authorizer(tenants, budget)
    spec = WebSocketApiSpec(
        name="ChatWebSocketApi", api_id="bench", stage="bench", routes=frozenset({"chat.send_message"})
    )

    def build_chat() -> ChatApp:
        # Built at the first event, once the gateway has started and knows its @connections endpoint.
        chat_settings = ChatWsSettings(
            connections_table_name="unused",
            chat_sessions_table_name="unused",
            budgets_table_name="unused",
            websocket_management_endpoint=gateway.management_endpoint,
        )
        return build_app(
            chat_settings,
            connections=InMemoryConnectionStore(),
            sessions=InMemorySessionStore(),
            model=client,
            budget=budget,
        )

    chat = function_worker(build_chat, handle_event, service="chat-ws", correlation_path=CORRELATION_PATH)
    gateway = WebSocketGateway(
        spec, chat, authorizer=function_worker(lambda: authorizer, authorize, service="api-authorizer")
    )
    gateway.start()
    return gateway


def _direct_first_token(raw: Any, model_id: str) -> float:
    messages: Any = [{"role": "user", "content": [{"text": QUESTION}]}]
    started = time.perf_counter()
    response = raw.converse_stream(
        modelId=model_id, messages=messages, system=[{"text": SYSTEM_PROMPT}], inferenceConfig={"maxTokens": 1024}
    )
    first = 0.0
    for event in response["stream"]:
        if not first and "contentBlockDelta" in event:
            first = (time.perf_counter() - started) * 1000
    return first


def _websocket_first_chunk(socket: ClientConnection) -> float:
    payload = {"action": "chat.send_message", "session_id": uuid.uuid4().hex, "message": QUESTION}
    started = time.perf_counter()
    socket.send(json.dumps(payload))
    first = 0.0
    while True:
        message = json.loads(socket.recv(timeout=30))
        if not first and message["type"] == "chat.message_stream":
            first = (time.perf_counter() - started) * 1000
        if message["type"] in ("chat.message_complete", "chat.error"):
            return first


def _report(url: str, gateway_url: str, direct: list[float], websocket: list[float]) -> dict[str, float]:
    overhead = [w - d for w, d in zip(websocket, direct, strict=True)]
    rows = [
        ("first token, direct ConverseStream", direct),
        ("first chunk, WebSocket chat", websocket),
        ("overhead (WebSocket - direct)", overhead),
    ]
    print(f"offline Bedrock at {url}; local WebSocket API at {gateway_url}; N={N} turns each; milliseconds")
    print(f"{'measure':<40} {'median':>9} {'p95':>9}")
    for name, samples in rows:
        median, p95 = _percentiles(samples)
        print(f"{name:<40} {median:>9.2f} {p95:>9.2f}")
    median_overhead = _percentiles(overhead)[0]
    verdict = "within" if median_overhead < GOAL_MS else "OVER"
    print(f"median overhead {median_overhead:.2f} ms: {verdict} the {GOAL_MS:.0f} ms goal")
    return {
        "direct_first_token_ms_p50": _percentiles(direct)[0],
        "websocket_first_chunk_ms_p50": _percentiles(websocket)[0],
        "overhead_ms_p50": median_overhead,
        "overhead_ms_p95": _percentiles(overhead)[1],
    }


def main(results: dict[str, Any] | None = None) -> None:
    """Boot the offline Bedrock and the local WebSocket chat; time both first chunks, interleaved; print a table."""
    _environment()
    server, url = _start_model()
    settings = BedrockSettings(use_count_tokens_api=False)
    raw = boto3.client("bedrock-runtime", endpoint_url=url, config=botocore_config(settings))
    model_id = settings.route("chat").primary
    gateway = _start_chat(BedrockClient(raw, settings, NullMetrics(), tracer=NullTracer()))
    try:
        with connect(gateway.url, additional_headers={"x-api-key": "bench-key"}) as socket:
            for _ in range(10):
                _direct_first_token(raw, model_id)
                _websocket_first_chunk(socket)
            direct, websocket = [], []
            # Interleaved so drift on a shared machine hits both sides alike.
            for _ in range(N):
                direct.append(_direct_first_token(raw, model_id))
                websocket.append(_websocket_first_chunk(socket))
        figures = _report(url, gateway.url, direct, websocket)
        if results is not None:
            results["chat_ws"] = figures
    finally:
        gateway.stop()
        # The last $disconnect still runs on the chat handler's stores.
        gateway.wait_idle(5)
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
