"""The offline Bedrock HTTP server: bedrock-runtime's REST-JSON wire protocol on 127.0.0.1."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from supportflow.bedrock_offline import eventstream
from supportflow.bedrock_offline.conversation import (
    BedrockError,
    Conversation,
    check_max_tokens,
    check_model_id,
    parse_anthropic,
    parse_converse,
    validation,
)
from supportflow.bedrock_offline.engine import Completion, Engine, count_input_tokens
from supportflow.bedrock_offline.faults import FAULT_HEADER, HTTP_FAULTS, STREAM_FAULTS, FaultPlan, FaultRule
from supportflow.bedrock_offline.nlp import Brain

log = logging.getLogger(__name__)

BANK_HEADER = "x-supportflow-bank"  # "off" = zero-shot only, for measuring the general case
_STREAM_CHUNK_WORDS = 3
_JSON_CHUNK_CHARS = 24

_brain_lock = threading.Lock()
_brain: Brain | None = None


def get_brain() -> Brain:
    """The process-wide model (loaded once; ~1 s with a warm cache)."""
    global _brain  # noqa: PLW0603  (one model per process: it is large and read-only)
    with _brain_lock:
        if _brain is None:
            _brain = Brain()
        return _brain


# --- requests, responses and routing ---------------------------------------------------------------


@dataclass
class Request:
    """An HTTP request as the router sees it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        """The body parsed as a JSON object."""
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise BedrockError(400, "SerializationException", f"Could not parse request body: {exc}") from exc
        if not isinstance(data, dict):
            raise BedrockError(400, "SerializationException", "Request body must be a JSON object.")
        return data


@dataclass
class Response:
    """A full body, or an iterator of event-stream frames sent as chunked transfer."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: Iterator[bytes] | None = None


Handler = Callable[[Request, dict[str, str]], Response]


@dataclass
class Route:
    """One REST route: method, path regex with named groups, operation name for counting."""

    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler


class Router:
    """REST routes plus JSON-1.1 ``X-Amz-Target`` operations (for the data-automation runtime later)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.targets: dict[str, Handler] = {}

    def add(self, method: str, pattern: str, operation: str, handler: Handler) -> None:
        """Register a REST route; ``pattern`` is matched against the raw (still URL-encoded) path."""
        self.routes.append(Route(method, re.compile(pattern), operation, handler))

    def add_target(self, target: str, handler: Handler) -> None:
        """Register a JSON-1.1 operation such as ``AmazonBedrockKeystoneRuntimeService.InvokeDataAutomationAsync``."""
        self.targets[target] = handler

    def match(self, request: Request) -> tuple[str, Handler, dict[str, str]] | None:
        """Find the operation for a request."""
        target = request.headers.get("X-Amz-Target")
        if target and request.method == "POST" and target in self.targets:
            return target.rsplit(".", 1)[-1], self.targets[target], {}
        for route in self.routes:
            if route.method != request.method:
                continue
            hit = route.pattern.fullmatch(request.path)
            if hit:
                return route.operation, route.handler, {k: unquote(v) for k, v in hit.groupdict().items()}
        return None


def error_response(error: BedrockError, request_id: str) -> Response:
    """Bedrock's error shape: status, ``x-amzn-ErrorType`` header, ``{"message": ...}``."""
    body = json.dumps({"message": error.message}).encode()
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": error.error_type,
        "x-amzn-RequestId": request_id,
    }
    return Response(status=error.status, headers=headers, body=body)


# --- the application -------------------------------------------------------------------------------


class BedrockApp:
    """Operations, fault injection and request counting, independent of the HTTP server."""

    def __init__(self, brain: Brain, faults: FaultPlan) -> None:
        self.brain = brain
        self.engine = Engine(brain)
        self.faults = faults
        self._counts: Counter[tuple[str, str]] = Counter()
        self._count_lock = threading.Lock()
        self.router = Router()
        model = r"/model/(?P<model_id>[^/]+)"
        self.router.add("POST", model + "/converse", "Converse", self.converse)
        self.router.add("POST", model + "/converse-stream", "ConverseStream", self.converse_stream)
        self.router.add("POST", model + "/invoke", "InvokeModel", self.invoke)
        self.router.add(
            "POST", model + "/invoke-with-response-stream", "InvokeModelWithResponseStream", self.invoke_stream
        )
        self.router.add("POST", model + "/count-tokens", "CountTokens", self.count_tokens)
        self.router.add("GET", r"/ping", "Ping", lambda _r, _p: Response(body=b'{"status":"ok"}'))

    # --- counting --------------------------------------------------------------------------------

    def count(self, operation: str, model_id: str) -> None:
        """Record one request (every attempt, so client retries are visible)."""
        with self._count_lock:
            self._counts[(operation, model_id)] += 1

    def request_count(self, operation: str | None = None, model_id: str | None = None) -> int:
        """Requests seen, optionally filtered by operation and/or model id."""
        with self._count_lock:
            return sum(
                n
                for (op, model), n in self._counts.items()
                if (operation is None or op == operation) and (model_id is None or model == model_id)
            )

    def reset_counts(self) -> None:
        """Forget all counted requests."""
        with self._count_lock:
            self._counts.clear()

    # --- dispatch --------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Route, count, inject faults, run the operation, map errors to Bedrock's shape."""
        request_id = str(uuid.uuid4())
        found = self.router.match(request)
        if found is None:
            self.count("Unknown", "")
            error = BedrockError(404, "UnknownOperationException", f"No operation for {request.method} {request.path}")
            return error_response(error, request_id)
        operation, handler, params = found
        model_id = params.get("model_id", "")
        self.count(operation, model_id)
        try:
            fault = self.faults.decide(operation, model_id, request.headers.get(FAULT_HEADER))
        except ValueError as exc:
            return error_response(validation(str(exc)), request_id)
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000.0)
        if fault.http:
            status, kind, message = HTTP_FAULTS[fault.http]
            return error_response(BedrockError(status, kind, message), request_id)
        params["_request_id"] = request_id
        params["_bank"] = "off" if request.headers.get(BANK_HEADER, "").lower() == "off" else "on"
        if fault.stream:
            params["_stream_fault"] = f"{fault.stream}@{fault.stream_after}"
        try:
            if model_id:
                check_model_id(model_id)
            response = handler(request, params)
        except BedrockError as exc:
            return error_response(exc, request_id)
        except Exception:
            log.exception("offline bedrock failed on %s", operation)
            return error_response(BedrockError(500, "InternalServerException", "Internal error."), request_id)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        return response

    # --- operations ------------------------------------------------------------------------------

    def _complete(self, conv: Conversation, params: dict[str, str]) -> tuple[Completion, int]:
        check_max_tokens(conv)
        started = time.perf_counter()
        result = self.engine.complete(conv, use_bank=params.get("_bank") != "off")
        return result, max(1, round((time.perf_counter() - started) * 1000))

    def converse(self, request: Request, params: dict[str, str]) -> Response:
        """POST /model/{id}/converse."""
        conv = parse_converse(params["model_id"], request.json())
        result, latency = self._complete(conv, params)
        body = {
            "output": {"message": {"role": "assistant", "content": [_converse_block(result)]}},
            "stopReason": result.stop_reason,
            "usage": _usage(result),
            "metrics": {"latencyMs": latency},
        }
        return _json(body)

    def converse_stream(self, request: Request, params: dict[str, str]) -> Response:
        """POST /model/{id}/converse-stream: the same answer as Converse, framed as events."""
        conv = parse_converse(params["model_id"], request.json())
        result, latency = self._complete(conv, params)
        events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
        if result.tool_name is not None:
            start = {"toolUse": {"toolUseId": result.tool_use_id, "name": result.tool_name}}
            events.append(("contentBlockStart", {"start": start, "contentBlockIndex": 0}))
            for piece in _split_json(result.tool_input or {}):
                events.append(("contentBlockDelta", {"delta": {"toolUse": {"input": piece}}, "contentBlockIndex": 0}))
        else:
            for piece in _split_text(result.text):
                events.append(("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0}))
        events.append(("contentBlockStop", {"contentBlockIndex": 0}))
        events.append(("messageStop", {"stopReason": result.stop_reason}))
        events.append(("metadata", {"usage": _usage(result), "metrics": {"latencyMs": latency}}))
        frames = _frames(events, params.get("_stream_fault"))
        return Response(headers={"Content-Type": eventstream.CONTENT_TYPE}, stream=frames)

    def invoke(self, request: Request, params: dict[str, str]) -> Response:
        """POST /model/{id}/invoke: Anthropic messages, Titan/Cohere embeddings."""
        model_id = params["model_id"]
        body = _invoke_body(request.body)
        if "embed" in model_id:
            return self._embed(model_id, body)
        conv = parse_anthropic(model_id, body)
        result, latency = self._complete(conv, params)
        response = _json(_anthropic_message(result, conv))
        response.headers.update(
            {
                "X-Amzn-Bedrock-Input-Token-Count": str(result.input_tokens),
                "X-Amzn-Bedrock-Output-Token-Count": str(result.output_tokens),
                "X-Amzn-Bedrock-Invocation-Latency": str(latency),
            }
        )
        return response

    def invoke_stream(self, request: Request, params: dict[str, str]) -> Response:
        """POST /model/{id}/invoke-with-response-stream: Anthropic stream events in ``chunk`` frames."""
        model_id = params["model_id"]
        conv = parse_anthropic(model_id, _invoke_body(request.body))
        result, latency = self._complete(conv, params)
        message = _anthropic_message(result, conv)
        start_msg = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
        start_msg["usage"] = {"input_tokens": result.input_tokens, "output_tokens": 1}
        chunks: list[dict[str, Any]] = [{"type": "message_start", "message": start_msg}]
        if result.tool_name is not None:
            block = {"type": "tool_use", "id": message["content"][0]["id"], "name": result.tool_name, "input": {}}
            chunks.append({"type": "content_block_start", "index": 0, "content_block": block})
            for piece in _split_json(result.tool_input or {}):
                delta = {"type": "input_json_delta", "partial_json": piece}
                chunks.append({"type": "content_block_delta", "index": 0, "delta": delta})
        else:
            chunks.append({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
            for piece in _split_text(result.text):
                chunks.append(
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
                )
        chunks.append({"type": "content_block_stop", "index": 0})
        chunks.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": result.stop_reason, "stop_sequence": result.stop_sequence},
                "usage": {"output_tokens": result.output_tokens},
            }
        )
        metrics = {
            "inputTokenCount": result.input_tokens,
            "outputTokenCount": result.output_tokens,
            "invocationLatency": latency,
            "firstByteLatency": latency,
        }
        chunks.append({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics})
        events = [
            ("chunk", {"bytes": base64.b64encode(json.dumps(c, separators=(",", ":")).encode()).decode()})
            for c in chunks
        ]
        headers = {"Content-Type": eventstream.CONTENT_TYPE, "X-Amzn-Bedrock-Content-Type": "application/json"}
        return Response(headers=headers, stream=_frames(events, params.get("_stream_fault")))

    def count_tokens(self, request: Request, params: dict[str, str]) -> Response:
        """POST /model/{id}/count-tokens: the same estimate as ``usage.inputTokens``."""
        model_id = params["model_id"]
        spec = request.json().get("input") or {}
        if "converse" in spec:
            conv = parse_converse(model_id, spec["converse"])
        elif "invokeModel" in spec:
            raw = spec["invokeModel"].get("body", "")
            try:
                decoded = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise validation("invokeModel.body must be base64-encoded.") from exc
            conv = parse_anthropic(model_id, _invoke_body(decoded))
        else:
            raise validation("input must contain exactly one of converse or invokeModel.")
        return _json({"inputTokens": count_input_tokens(self.brain, conv)})

    def _embed(self, model_id: str, body: dict[str, Any]) -> Response:
        if "cohere" in model_id:
            texts = body.get("texts")
            if not isinstance(texts, list) or not texts:
                raise validation("Malformed input request: #: required key [texts] not found")
            vectors = self.brain.embedder.embed([str(t) for t in texts])
            payload: dict[str, Any] = {
                "embeddings": [[round(float(x), 6) for x in v] for v in vectors],
                "id": str(uuid.uuid5(uuid.NAMESPACE_OID, json.dumps(texts))),
                "response_type": "embeddings_floats",
                "texts": texts,
            }
            return _json(payload)
        text = body.get("inputText")
        if not isinstance(text, str) or not text:
            raise validation("Malformed input request: #: required key [inputText] not found")
        vector = self.brain.embedder.embed([text])[0]
        return _json(
            {
                "embedding": [round(float(x), 6) for x in vector],
                "inputTextTokenCount": self.brain.embedder.token_count(text),
            }
        )


# --- wire helpers ----------------------------------------------------------------------------------


def _json(body: dict[str, Any]) -> Response:
    return Response(headers={"Content-Type": "application/json"}, body=json.dumps(body).encode())


def _invoke_body(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"")
    except ValueError as exc:
        raise validation("Malformed input request, please reformat your input and try again.") from exc
    if not isinstance(data, dict):
        raise validation(
            "Malformed input request: #: expected type: JSONObject, please reformat your input and try again."
        )
    return data


def _usage(result: Completion) -> dict[str, int]:
    return {
        "inputTokens": result.input_tokens,
        "outputTokens": result.output_tokens,
        "totalTokens": result.input_tokens + result.output_tokens,
    }


def _converse_block(result: Completion) -> dict[str, Any]:
    if result.tool_name is not None:
        return {"toolUse": {"toolUseId": result.tool_use_id, "name": result.tool_name, "input": result.tool_input}}
    return {"text": result.text}


def _anthropic_message(result: Completion, conv: Conversation) -> dict[str, Any]:
    if result.tool_name is not None:
        content: list[dict[str, Any]] = [
            {
                "type": "tool_use",
                "id": "toolu_bdrk_" + result.response_id[:24],
                "name": result.tool_name,
                "input": result.tool_input,
            }
        ]
    else:
        content = [{"type": "text", "text": result.text}]
    return {
        "id": "msg_bdrk_" + result.response_id[:24],
        "type": "message",
        "role": "assistant",
        "model": conv.model_id.split("/")[-1].removeprefix("anthropic.").split(":")[0],
        "content": content,
        "stop_reason": result.stop_reason,
        "stop_sequence": result.stop_sequence,
        "usage": {"input_tokens": result.input_tokens, "output_tokens": result.output_tokens},
    }


def _split_text(text: str) -> list[str]:
    """A few words per delta, keeping the separators so the pieces join back to the text."""
    words = re.findall(r"\S+\s*|\s+", text)
    pieces = ["".join(words[i : i + _STREAM_CHUNK_WORDS]) for i in range(0, len(words), _STREAM_CHUNK_WORDS)]
    return pieces or [""]


def _split_json(data: dict[str, Any]) -> list[str]:
    raw = json.dumps(data)
    return [raw[i : i + _JSON_CHUNK_CHARS] for i in range(0, len(raw), _JSON_CHUNK_CHARS)] or ["{}"]


def _frames(events: Iterable[tuple[str, dict[str, Any]]], stream_fault: str | None) -> Iterator[bytes]:
    """Encode events lazily; an injected stream fault replaces the rest after N deltas."""
    fault_kind, after = None, 0
    if stream_fault:
        fault_kind, _, raw_after = stream_fault.partition("@")
        after = int(raw_after or 2)
    deltas = 0
    for event_type, payload in events:
        is_delta = event_type == "contentBlockDelta" or (
            event_type == "chunk" and b"content_block_delta" in base64.b64decode(payload["bytes"])
        )
        if fault_kind and is_delta and deltas >= after:
            exception_type, message = STREAM_FAULTS[fault_kind]
            yield eventstream.exception_frame(exception_type, message)
            return
        deltas += int(is_delta)
        yield eventstream.event_frame(event_type, payload)
    if fault_kind:
        # Fewer deltas than the fault wanted: fail before the end rather than silently succeed.
        exception_type, message = STREAM_FAULTS[fault_kind]
        yield eventstream.exception_frame(exception_type, message)


# --- HTTP ------------------------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked transfer for streams
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        request = Request(self.command, path, {k: v for k, v in self.headers.items()}, body)
        response = self.server.app.dispatch(request)
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            # The client went away mid-stream (e.g. stopped iterating); nothing to tell it.
            self.close_connection = True

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for frame in response.stream:
            # One HTTP chunk per frame, flushed, so clients see the first token as soon as it exists.
            self.wfile.write(f"{len(frame):X}\r\n".encode() + frame + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: BedrockApp) -> None:
        self.app = app
        super().__init__(address, _RequestHandler)


FaultsArg = FaultPlan | Iterable[FaultRule | Mapping[str, Any]] | str | Path | None


def _fault_plan(faults: FaultsArg) -> FaultPlan:
    if faults is None:
        return FaultPlan.from_env()
    if isinstance(faults, FaultPlan):
        return faults
    if isinstance(faults, str | Path):
        return FaultPlan.from_file(Path(faults))
    return FaultPlan(faults)


class OfflineBedrock:
    """An offline bedrock-runtime endpoint in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, faults: FaultsArg = None) -> None:
        self.host = host
        self.port = port
        self.faults = _fault_plan(faults)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.app: BedrockApp | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> str:
        """Load and warm the model, bind, serve in a daemon thread; return the endpoint URL."""
        if self._server is not None:
            return self.url
        started = time.perf_counter()
        brain = get_brain()
        # Touch numpy and the e5 engine once; label prompts are embedded lazily (~0.4 s on the first 27-way call).
        brain.classify("warm up", ["track_order", "get_refund"])
        self.app = BedrockApp(brain, self.faults)
        self._server = _Server((self.host, self.port), self.app)
        self._thread = threading.Thread(target=self._server.serve_forever, name="offline-bedrock", daemon=True)
        self._thread.start()
        log.info("offline bedrock on %s (ready in %.2fs)", self.url, time.perf_counter() - started)
        return self.url

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def request_count(self, operation: str | None = None, model_id: str | None = None) -> int:
        """Requests received (every attempt), filtered by operation name and/or model id."""
        return self.app.request_count(operation, model_id) if self.app else 0

    def reset_counts(self) -> None:
        """Zero the request counters."""
        if self.app:
            self.app.reset_counts()

    def __enter__(self) -> OfflineBedrock:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(host: str = "127.0.0.1", port: int = 8766, ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (the ``supportflow bedrock --port`` command); ``ready`` gets the URL."""
    server = OfflineBedrock(host=host, port=port)
    url = server.start()
    if ready is not None:
        ready(url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log.info("stopping offline bedrock")
    finally:
        # A second Ctrl-C (or a supervisor forwarding the signal) must not abort the shutdown half-way.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()
