"""Operations of the offline bedrock-runtime: dispatch (counting, faults, errors) and one method per API."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
import uuid
from collections import Counter
from typing import Any

from supportflow.bedrock_offline import eventstream
from supportflow.bedrock_offline.batch_jobs import BatchJobOperations
from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.conversation import (
    BedrockError,
    Conversation,
    check_max_tokens,
    check_model_id,
    parse_anthropic,
    parse_converse,
    validation,
)
from supportflow.bedrock_offline.data_automation import DataAutomationOperations
from supportflow.bedrock_offline.emulator_link import EmulatorLink
from supportflow.bedrock_offline.engine import Completion, Engine, count_input_tokens
from supportflow.bedrock_offline.faults import FAULT_HEADER, HTTP_FAULTS, FaultPlan
from supportflow.bedrock_offline.jobs import EventGate, JobSettings
from supportflow.bedrock_offline.knowledge_ops import KnowledgeOperations
from supportflow.bedrock_offline.routing import (
    BANK_HEADER,
    Request,
    RequestContext,
    Response,
    Router,
    error_response,
)
from supportflow.bedrock_offline.wire import (
    anthropic_message,
    converse_block,
    frames,
    invoke_body,
    json_response,
    split_json,
    split_text,
    usage,
)

log = logging.getLogger(__name__)


class BedrockApp:
    """Operations, fault injection and request counting, independent of the HTTP server."""

    def __init__(
        self, brain: Brain, faults: FaultPlan, link: EmulatorLink | None = None, jobs: JobSettings | None = None
    ) -> None:
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
        self.router.add("GET", r"/ping", "Ping", lambda _request, _context: Response(body=b'{"status":"ok"}'))
        # bedrock-agent-runtime Retrieve and qbusiness SearchRelevantContent over the shipped knowledge base.
        self.knowledge = KnowledgeOperations(brain)
        self.knowledge.register(self.router)
        # Asynchronous jobs over the emulator's S3 and default bus: Data Automation runtime, batch inference.
        link = link or EmulatorLink()
        jobs = jobs or JobSettings()
        self.job_events = EventGate()
        self.data_automation = DataAutomationOperations(brain, link, jobs, self.job_events)
        self.data_automation.register(self.router)
        self.batch_jobs = BatchJobOperations(self.engine, link, jobs, self.job_events)
        self.batch_jobs.register(self.router)

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
        operation, handler, path_params = found
        model_id = path_params.get("model_id", "")
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
        context = RequestContext(
            operation=operation,
            request_id=request_id,
            model_id=model_id,
            use_bank=request.headers.get(BANK_HEADER, "").lower() != "off",
            fault=fault,
            path_params=path_params,
        )
        try:
            if model_id:
                check_model_id(model_id)
            response = handler(request, context)
        except BedrockError as exc:
            return error_response(exc, request_id)
        except Exception:
            log.exception("offline bedrock failed on %s", operation)
            return error_response(BedrockError(500, "InternalServerException", "Internal error."), request_id)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        return response

    # --- operations ------------------------------------------------------------------------------

    def _complete(self, conv: Conversation, context: RequestContext) -> tuple[Completion, int]:
        check_max_tokens(conv)
        started = time.perf_counter()
        result = self.engine.complete(conv, use_bank=context.use_bank)
        return result, max(1, round((time.perf_counter() - started) * 1000))

    def converse(self, request: Request, context: RequestContext) -> Response:
        """POST /model/{id}/converse."""
        conv = parse_converse(context.model_id, request.json())
        result, latency = self._complete(conv, context)
        body = {
            "output": {"message": {"role": "assistant", "content": [converse_block(result)]}},
            "stopReason": result.stop_reason,
            "usage": usage(result),
            "metrics": {"latencyMs": latency},
        }
        return json_response(body)

    def converse_stream(self, request: Request, context: RequestContext) -> Response:
        """POST /model/{id}/converse-stream: the same answer as Converse, framed as events."""
        conv = parse_converse(context.model_id, request.json())
        result, latency = self._complete(conv, context)
        events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
        if result.tool_name is not None:
            start = {"toolUse": {"toolUseId": result.tool_use_id, "name": result.tool_name}}
            events.append(("contentBlockStart", {"start": start, "contentBlockIndex": 0}))
            for piece in split_json(result.tool_input or {}):
                events.append(("contentBlockDelta", {"delta": {"toolUse": {"input": piece}}, "contentBlockIndex": 0}))
        else:
            for piece in split_text(result.text):
                events.append(("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0}))
        events.append(("contentBlockStop", {"contentBlockIndex": 0}))
        events.append(("messageStop", {"stopReason": result.stop_reason}))
        events.append(("metadata", {"usage": usage(result), "metrics": {"latencyMs": latency}}))
        return Response(headers={"Content-Type": eventstream.CONTENT_TYPE}, stream=frames(events, context.fault))

    def invoke(self, request: Request, context: RequestContext) -> Response:
        """POST /model/{id}/invoke: Anthropic messages, Titan/Cohere embeddings."""
        model_id = context.model_id
        body = invoke_body(request.body)
        if "embed" in model_id:
            return self._embed(model_id, body)
        conv = parse_anthropic(model_id, body)
        result, latency = self._complete(conv, context)
        response = json_response(anthropic_message(result, conv))
        response.headers.update(
            {
                "X-Amzn-Bedrock-Input-Token-Count": str(result.input_tokens),
                "X-Amzn-Bedrock-Output-Token-Count": str(result.output_tokens),
                "X-Amzn-Bedrock-Invocation-Latency": str(latency),
            }
        )
        return response

    def invoke_stream(self, request: Request, context: RequestContext) -> Response:
        """POST /model/{id}/invoke-with-response-stream: Anthropic stream events in ``chunk`` frames."""
        model_id = context.model_id
        conv = parse_anthropic(model_id, invoke_body(request.body))
        result, latency = self._complete(conv, context)
        message = anthropic_message(result, conv)
        start_msg = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
        start_msg["usage"] = {"input_tokens": result.input_tokens, "output_tokens": 1}
        chunks: list[dict[str, Any]] = [{"type": "message_start", "message": start_msg}]
        if result.tool_name is not None:
            block = {"type": "tool_use", "id": message["content"][0]["id"], "name": result.tool_name, "input": {}}
            chunks.append({"type": "content_block_start", "index": 0, "content_block": block})
            for piece in split_json(result.tool_input or {}):
                delta = {"type": "input_json_delta", "partial_json": piece}
                chunks.append({"type": "content_block_delta", "index": 0, "delta": delta})
        else:
            chunks.append({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
            for piece in split_text(result.text):
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
        return Response(headers=headers, stream=frames(events, context.fault))

    def count_tokens(self, request: Request, context: RequestContext) -> Response:
        """POST /model/{id}/count-tokens: the same estimate as ``usage.inputTokens``."""
        model_id = context.model_id
        spec = request.json().get("input") or {}
        if "converse" in spec:
            conv = parse_converse(model_id, spec["converse"])
        elif "invokeModel" in spec:
            raw = spec["invokeModel"].get("body", "")
            try:
                decoded = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise validation("invokeModel.body must be base64-encoded.") from exc
            conv = parse_anthropic(model_id, invoke_body(decoded))
        else:
            raise validation("input must contain exactly one of converse or invokeModel.")
        return json_response({"inputTokens": count_input_tokens(self.brain, conv)})

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
            return json_response(payload)
        text = body.get("inputText")
        if not isinstance(text, str) or not text:
            raise validation("Malformed input request: #: required key [inputText] not found")
        vector = self.brain.embedder.embed([text])[0]
        return json_response(
            {
                "embedding": [round(float(x), 6) for x in vector],
                "inputTextTokenCount": self.brain.embedder.token_count(text),
            }
        )
