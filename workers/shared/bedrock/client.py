"""BedrockClient: routing, fallback, retries, token budgets, cost, telemetry and the optional cache."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from workers.shared.bedrock.anthropic import from_anthropic_response, is_anthropic, to_anthropic_body
from workers.shared.bedrock.cache import DynamoDBResponseCache, cache_key
from workers.shared.bedrock.errors import (
    FALLBACK_ON,
    RETRYABLE_IN_STREAM,
    BedrockError,
    ModelInputInvalid,
    ModelThrottled,
    ModelTimedOut,
    StructuredOutputInvalid,
    ToolLoopExceeded,
    botocore_retry_attempts,
    translate_client_error,
)
from workers.shared.bedrock.messages import MessageLike, drop_oldest, normalise_messages, normalise_system
from workers.shared.bedrock.ports import (
    BedrockRuntimePort,
    CallRecord,
    MetricsPort,
    ResponseCachePort,
    SpanPort,
    TracerPort,
)
from workers.shared.bedrock.pricing import estimate_cost
from workers.shared.bedrock.result import Result, TokenCount, ToolCall, Usage
from workers.shared.bedrock.runtime import Boto3BedrockRuntime, build_runtime_client
from workers.shared.bedrock.settings import BedrockSettings, ModelSpec
from workers.shared.bedrock.streams import AnthropicStreamAssembler, ConverseStreamAssembler
from workers.shared.bedrock.telemetry import PowertoolsMetrics, XRayTracer
from workers.shared.bedrock.tokens import TokenCounter, fit_request, input_limit
from workers.shared.bedrock.tools import ToolRegistry, schema_tool_spec

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Mode = Literal["converse", "converse_stream", "invoke", "invoke_stream"]
System = str | Sequence[Mapping[str, Any]] | None


class StreamListener(Protocol):
    """Receives text as it streams; ``on_restart`` means a retry begins and earlier text is void."""

    def on_text(self, delta: str) -> None:
        """A text delta."""
        ...

    def on_restart(self, attempt: int) -> None:
        """The stream is being retried from the start."""
        ...


@dataclass
class _Tally:
    """HTTP attempts and throttles seen across retries and models of one call."""

    attempts: int = 0
    throttles: int = 0
    models_tried: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Call:
    """A model-independent request: normalised messages, system, inference, tools, budget."""

    task: str
    messages: list[dict[str, Any]]
    system: list[dict[str, Any]]
    inference: dict[str, Any]
    tool_config: dict[str, Any] | None = None
    additional_fields: dict[str, Any] | None = None
    max_input_tokens: int | None = None
    model_id: str | None = None


@dataclass(frozen=True)
class _Outcome:
    response: dict[str, Any]
    count: TokenCount
    trimmed: int
    cached: bool
    first_token_ms: float | None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _text_of(message: Mapping[str, Any]) -> str:
    return "".join(str(b["text"]) for b in message.get("content", []) if "text" in b)


def _tool_calls_of(message: Mapping[str, Any]) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(b["toolUse"]["toolUseId"], b["toolUse"]["name"], dict(b["toolUse"].get("input") or {}))
        for b in message.get("content", [])
        if "toolUse" in b
    )


def _combine(results: Sequence[Result[Any]], output: M | str) -> Result[Any]:
    """One result for a multi-round call: the last round's answer, every round's cost and usage."""
    last = results[-1]
    usage = Usage()
    for r in results:
        usage = usage + r.usage
    return replace(
        last,
        output=output,
        usage=usage,
        cost_usd=round(sum(r.cost_usd for r in results), 10),
        latency_ms=sum(r.latency_ms for r in results),
        attempts=sum(r.attempts for r in results),
        fallback=any(r.fallback for r in results),
        trimmed_messages=max(r.trimmed_messages for r in results),
        rounds=len(results),
        models_tried=tuple(dict.fromkeys(m for r in results for m in r.models_tried)),
    )


class BedrockClient:
    """The one Bedrock client every worker uses; build once per cold start and inject."""

    def __init__(
        self,
        runtime_client: BedrockRuntimeClient | BedrockRuntimePort | None = None,
        settings: BedrockSettings | None = None,
        metrics: MetricsPort | None = None,
        cache: ResponseCachePort | None = None,
        *,
        tracer: TracerPort | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or BedrockSettings()
        self._runtime: BedrockRuntimePort | None = None
        if isinstance(runtime_client, BaseClient):
            self._runtime = Boto3BedrockRuntime(runtime_client)
        elif runtime_client is not None:
            self._runtime = runtime_client
        self._metrics = metrics or PowertoolsMetrics(self.settings.metrics_namespace, self.settings.service_name)
        self._tracer = tracer or XRayTracer()
        if cache is None and self.settings.cache_enabled and self.settings.cache_table:
            cache = DynamoDBResponseCache(self.settings.cache_table)
        self._cache = cache
        self._sleep = sleep

    @property
    def runtime(self) -> BedrockRuntimePort:
        """The runtime port; the boto3 client is built on first use, from settings and the environment."""
        if self._runtime is None:
            self._runtime = Boto3BedrockRuntime(build_runtime_client(self.settings))
        return self._runtime

    # ---- public API -------------------------------------------------------------------------------

    def converse(
        self,
        task: str,
        messages: Sequence[MessageLike],
        *,
        system: System = None,
        inference: Mapping[str, Any] | None = None,
        tool_config: Mapping[str, Any] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
        max_input_tokens: int | None = None,
        model_id: str | None = None,
    ) -> Result[str]:
        """Converse on the task's route; output is the reply text (tool calls on ``result.tool_calls``)."""
        call = self._prepare(
            task,
            messages,
            system=system,
            inference=inference,
            max_input_tokens=max_input_tokens,
            model_id=model_id,
            tool_config=tool_config,
            additional_fields=additional_fields,
        )
        return self._run(call, "converse")

    def converse_stream(
        self,
        task: str,
        messages: Sequence[MessageLike],
        *,
        system: System = None,
        inference: Mapping[str, Any] | None = None,
        tool_config: Mapping[str, Any] | None = None,
        max_input_tokens: int | None = None,
        model_id: str | None = None,
        listener: StreamListener | None = None,
    ) -> Result[str]:
        """ConverseStream; text deltas go to ``listener``; errors inside the stream are retried."""
        call = self._prepare(
            task,
            messages,
            system=system,
            inference=inference,
            max_input_tokens=max_input_tokens,
            model_id=model_id,
            tool_config=tool_config,
        )
        return self._run(call, "converse_stream", listener)

    def invoke(
        self,
        task: str,
        messages: Sequence[MessageLike],
        *,
        system: System = None,
        inference: Mapping[str, Any] | None = None,
        max_input_tokens: int | None = None,
        model_id: str | None = None,
    ) -> Result[str]:
        """InvokeModel with the Anthropic messages body (Anthropic models of the route only)."""
        call = self._prepare(
            task, messages, system=system, inference=inference, max_input_tokens=max_input_tokens, model_id=model_id
        )
        return self._run(call, "invoke")

    def invoke_stream(
        self,
        task: str,
        messages: Sequence[MessageLike],
        *,
        system: System = None,
        inference: Mapping[str, Any] | None = None,
        max_input_tokens: int | None = None,
        model_id: str | None = None,
        listener: StreamListener | None = None,
    ) -> Result[str]:
        """InvokeModelWithResponseStream with the Anthropic messages body."""
        call = self._prepare(
            task, messages, system=system, inference=inference, max_input_tokens=max_input_tokens, model_id=model_id
        )
        return self._run(call, "invoke_stream", listener)

    def run_tools(
        self,
        task: str,
        messages: Sequence[MessageLike],
        tools: ToolRegistry,
        *,
        system: System = None,
        inference: Mapping[str, Any] | None = None,
        tool_choice: Mapping[str, Any] | None = None,
        max_rounds: int | None = None,
        max_input_tokens: int | None = None,
        model_id: str | None = None,
    ) -> Result[str]:
        """Converse, run the tools the model asks for, feed results back; at most ``max_rounds`` rounds."""
        limit = max_rounds or self.settings.max_tool_rounds
        call = self._prepare(
            task,
            messages,
            system=system,
            inference=inference,
            max_input_tokens=max_input_tokens,
            model_id=model_id,
            tool_config=tools.tool_config(tool_choice),
        )
        results: list[Result[str]] = []
        for round_no in range(1, limit + 1):
            result = self._run(call, "converse")
            results.append(result)
            if result.stop_reason != "tool_use" or not result.tool_calls:
                return _combine(results, result.text)
            tool_results = [
                tools.run({"toolUseId": t.tool_use_id, "name": t.name, "input": t.input}) for t in result.tool_calls
            ]
            logger.info(
                "tools ran", extra={"task": task, "round": round_no, "tools": [t.name for t in result.tool_calls]}
            )
            # A forced choice would force a tool forever: later rounds let the model answer.
            config = {k: v for k, v in (call.tool_config or {}).items() if k != "toolChoice"}
            history = [*call.messages, result.message, {"role": "user", "content": tool_results}]
            call = replace(call, messages=normalise_messages(history), tool_config=config)
        raise ToolLoopExceeded(
            f"model still requested tools after {limit} rounds", model_id=results[-1].model_id, code="ToolLoopExceeded"
        )

    def structured(
        self,
        task: str,
        messages: Sequence[MessageLike],
        output_model: type[M],
        *,
        system: System = None,
        inference: Mapping[str, Any] | None = None,
        tool_name: str | None = None,
        max_input_tokens: int | None = None,
        model_id: str | None = None,
    ) -> Result[M]:
        """Force a tool whose input schema is ``output_model``; validate, correct once, else raise."""
        name = tool_name or f"record_{_snake(output_model.__name__)}"
        config = {"tools": [schema_tool_spec(name, output_model)], "toolChoice": {"tool": {"name": name}}}
        call = self._prepare(
            task,
            messages,
            system=system,
            inference=inference,
            max_input_tokens=max_input_tokens,
            model_id=model_id,
            tool_config=config,
        )
        first = self._run(call, "converse")
        parsed, problem = self._parse_structured(first, name, output_model)
        if parsed is not None:
            return _combine([first], parsed)
        logger.warning("structured output invalid; correcting once", extra={"task": task, "problem": problem})
        call = replace(call, messages=self._corrective_history(call.messages, first, name, problem))
        second = self._run(call, "converse")
        parsed, problem = self._parse_structured(second, name, output_model)
        if parsed is None:
            raise StructuredOutputInvalid(
                f"{second.model_id} returned {output_model.__name__} that failed validation twice: {problem}",
                model_id=second.model_id,
                code="StructuredOutputInvalid",
            )
        return _combine([first, second], parsed)

    def count_tokens(
        self,
        messages: Sequence[MessageLike],
        *,
        task: str | None = None,
        system: System = None,
        tool_config: Mapping[str, Any] | None = None,
        model_id: str | None = None,
    ) -> TokenCount:
        """Input tokens for the task's primary model: CountTokens where supported, else an estimate."""
        model = model_id or self.settings.route(task or self.settings.default_task).primary
        request: dict[str, Any] = {"messages": normalise_messages(messages), "system": normalise_system(system)}
        if tool_config:
            request["toolConfig"] = dict(tool_config)
        return TokenCounter(self.settings, self.runtime).count(self.settings.spec(model), model, request)

    # ---- orchestration ----------------------------------------------------------------------------

    def _prepare(
        self,
        task: str,
        messages: Sequence[MessageLike],
        *,
        system: System,
        inference: Mapping[str, Any] | None,
        max_input_tokens: int | None,
        model_id: str | None,
        tool_config: Mapping[str, Any] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
    ) -> _Call:
        return _Call(
            task=task,
            messages=normalise_messages(messages),
            system=normalise_system(system),
            inference=dict(inference or {}),
            tool_config=dict(tool_config) if tool_config else None,
            additional_fields=dict(additional_fields) if additional_fields else None,
            max_input_tokens=max_input_tokens,
            model_id=model_id,
        )

    def _chain(self, call: _Call, mode: Mode) -> list[str]:
        chain = [call.model_id] if call.model_id else self.settings.route(call.task).chain
        if mode in ("invoke", "invoke_stream"):
            chain = [m for m in chain if is_anthropic(m)]
            if not chain:
                raise ModelInputInvalid(f"task {call.task!r} routes to no Anthropic model for InvokeModel")
        return chain

    def _run(self, call: _Call, mode: Mode, listener: StreamListener | None = None) -> Result[str]:
        chain = self._chain(call, mode)
        tally = _Tally()
        started = time.perf_counter()
        for index, model_id in enumerate(chain):
            tally.models_tried.append(model_id)
            try:
                outcome = self._call_model(model_id, call, mode, tally, listener)
            except FALLBACK_ON as exc:
                if index + 1 < len(chain):
                    logger.warning(
                        "model exhausted retries; falling back",
                        extra={
                            "task": call.task,
                            "model_id": model_id,
                            "next_model_id": chain[index + 1],
                            "error_code": exc.code,
                        },
                    )
                    self._metrics.record_fallback(call.task, model_id, chain[index + 1])
                    if listener is not None:
                        # What the failed model streamed is void: the next model answers from the start.
                        listener.on_restart(tally.attempts + 1)
                    continue
                exc.models_tried = tuple(tally.models_tried)
                self._record_failure(call.task, model_id, started, tally)
                raise
            return self._result(call, model_id, requested=chain[0], outcome=outcome, tally=tally, started=started)
        raise AssertionError("unreachable: empty route chain")  # pragma: no cover

    def _result(
        self, call: _Call, model_id: str, *, requested: str, outcome: _Outcome, tally: _Tally, started: float
    ) -> Result[str]:
        latency_ms = (time.perf_counter() - started) * 1000
        message = outcome.response["output"]["message"]
        usage = Usage() if outcome.cached else Usage.from_converse(outcome.response.get("usage"))
        cost = estimate_cost(self.settings.spec(model_id).pricing, usage)
        result: Result[str] = Result(
            output=_text_of(message),
            text=_text_of(message),
            model_id=model_id,
            requested_model_id=requested,
            task=call.task,
            usage=usage,
            cost_usd=cost,
            latency_ms=latency_ms,
            attempts=tally.attempts,
            fallback=model_id != requested,
            stop_reason=str(outcome.response.get("stopReason", "end_turn")),
            tool_calls=_tool_calls_of(message),
            message=message,
            models_tried=tuple(tally.models_tried),
            cached=outcome.cached,
            input_tokens_counted=outcome.count,
            trimmed_messages=outcome.trimmed,
            first_token_ms=outcome.first_token_ms,
        )
        self._metrics.record_call(
            CallRecord(
                task=call.task,
                model_id=model_id,
                latency_ms=latency_ms,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=cost,
                throttles=tally.throttles,
                fallback=result.fallback,
                attempts=tally.attempts,
                first_token_ms=outcome.first_token_ms,
                cached=outcome.cached,
            )
        )
        logger.info(
            "model answered",
            extra={
                "task": call.task,
                "model_id": model_id,
                "fallback": result.fallback,
                "attempts": tally.attempts,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cost_usd": cost,
                "latency_ms": round(latency_ms, 1),
            },
        )
        return result

    def _record_failure(self, task: str, model_id: str, started: float, tally: _Tally) -> None:
        latency_ms = (time.perf_counter() - started) * 1000
        self._metrics.record_call(
            CallRecord(
                task, model_id, latency_ms, 0, 0, 0.0, tally.throttles, len(tally.models_tried) > 1, tally.attempts
            )
        )

    def _build_request(self, model_id: str, spec: ModelSpec, call: _Call) -> dict[str, Any]:
        max_tokens = min(
            int(call.inference.get("maxTokens") or self.settings.default_max_tokens), spec.max_output_tokens
        )
        request: dict[str, Any] = {
            "modelId": model_id,
            "messages": call.messages,
            "inferenceConfig": {**call.inference, "maxTokens": max_tokens},
        }
        if call.system:
            request["system"] = call.system
        if call.tool_config:
            config = dict(call.tool_config)
            if "tool" in config.get("toolChoice", {}) and not spec.supports_specific_tool_choice:
                config["toolChoice"] = {"any": {}}
            request["toolConfig"] = config
        if call.additional_fields:
            request["additionalModelRequestFields"] = call.additional_fields
        return request

    def _call_model(
        self, model_id: str, call: _Call, mode: Mode, tally: _Tally, listener: StreamListener | None
    ) -> _Outcome:
        spec = self.settings.spec(model_id)
        request = self._build_request(model_id, spec, call)
        limit = input_limit(spec, request["inferenceConfig"]["maxTokens"], call.max_input_tokens)
        fitted = fit_request(
            TokenCounter(self.settings, self.runtime),
            spec,
            model_id,
            request,
            limit=limit,
            policy=self.settings.over_budget,
        )
        request = fitted.request
        key = self._cache_key(mode, model_id, request)
        if key is not None and self._cache is not None:
            hit = self._cache.get(key)
            if hit is not None:
                logger.info("response cache hit", extra={"task": call.task, "model_id": model_id})
                return _Outcome(hit, fitted.count, fitted.trimmed_messages, True, None)
        with self._tracer.span(f"bedrock.{mode}") as span:
            span.annotate("model_id", model_id)
            span.annotate("task", call.task)
            response, first_token_ms, trimmed = self._send_with_retries(mode, request, tally, listener, span)
            span.metadata("usage", response.get("usage", {}))
            span.metadata("input_tokens_counted", {"tokens": fitted.count.tokens, "method": fitted.count.method})
        if key is not None and self._cache is not None:
            self._cache.put(
                key, {k: v for k, v in response.items() if k != "ResponseMetadata"}, self.settings.cache_ttl_s
            )
        return _Outcome(response, fitted.count, fitted.trimmed_messages + trimmed, False, first_token_ms)

    def _cache_key(self, mode: Mode, model_id: str, request: dict[str, Any]) -> str | None:
        """Only identical single-turn, tool-free Converse requests are cacheable."""
        if self._cache is None or mode != "converse" or len(request["messages"]) != 1 or "toolConfig" in request:
            return None
        return cache_key(model_id, request)

    # ---- retries ----------------------------------------------------------------------------------

    def _send_with_retries(
        self, mode: Mode, request: dict[str, Any], tally: _Tally, listener: StreamListener | None, span: SpanPort
    ) -> tuple[dict[str, Any], float | None, int]:
        """Tenacity for in-stream errors; one smaller retry after ModelTimeoutException."""
        trimmed = 0
        try:
            response, first = self._retrying(listener)(self._send, mode, request, tally, listener)
        except ModelTimedOut:
            smaller = self._shrink(request)
            trimmed = len(request["messages"]) - len(smaller["messages"])
            logger.warning(
                "model timed out; retrying once with a smaller request",
                extra={
                    "model_id": request["modelId"],
                    "max_tokens": smaller["inferenceConfig"]["maxTokens"],
                    "dropped": trimmed,
                },
            )
            span.annotate("timeout_retry", True)
            if listener is not None:
                listener.on_restart(tally.attempts + 1)
            response, first = self._retrying(listener)(self._send, mode, smaller, tally, listener)
        return response, first, trimmed

    def _shrink(self, request: dict[str, Any]) -> dict[str, Any]:
        inference = request["inferenceConfig"]
        max_tokens = max(1, int(inference["maxTokens"] * self.settings.timeout_shrink_factor))
        messages = drop_oldest(request["messages"], len(request["messages"]) // 2)
        return {**request, "messages": messages, "inferenceConfig": {**inference, "maxTokens": max_tokens}}

    def _retrying(self, listener: StreamListener | None) -> Retrying:
        s = self.settings

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            logger.warning(
                "stream error; retrying",
                extra={
                    "attempt": state.attempt_number,
                    "error": type(error).__name__,
                    "code": getattr(error, "code", None),
                },
            )
            if listener is not None:
                listener.on_restart(state.attempt_number + 1)

        return Retrying(
            retry=retry_if_exception_type(RETRYABLE_IN_STREAM),
            stop=stop_after_attempt(s.stream_retry_attempts),
            wait=wait_random_exponential(multiplier=s.stream_retry_initial_wait_s, max=s.stream_retry_max_wait_s),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    def _send(
        self, mode: Mode, request: dict[str, Any], tally: _Tally, listener: StreamListener | None
    ) -> tuple[dict[str, Any], float | None]:
        """One request (botocore retries inside); botocore errors become domain errors here."""
        model_id = str(request["modelId"])
        tally.attempts += 1
        started = time.perf_counter()
        try:
            if mode == "converse":
                response = self.runtime.converse(request)
                tally.attempts += int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
                return response, None
            if mode == "invoke":
                return from_anthropic_response(self.runtime.invoke_model(model_id, to_anthropic_body(request))), None
            return self._consume_stream(mode, request, tally, listener, started)
        except ClientError as exc:
            tally.attempts += botocore_retry_attempts(exc)
            error: BedrockError = translate_client_error(exc, model_id)
            if isinstance(error, ModelThrottled):
                tally.throttles += 1
            raise error from exc

    def _consume_stream(
        self, mode: Mode, request: dict[str, Any], tally: _Tally, listener: StreamListener | None, started: float
    ) -> tuple[dict[str, Any], float | None]:
        model_id = str(request["modelId"])
        assembler: ConverseStreamAssembler | AnthropicStreamAssembler
        if mode == "converse_stream":
            opened = self.runtime.converse_stream(request)
            tally.attempts += int(opened.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
            events: Any = opened["stream"]
            assembler = ConverseStreamAssembler()
        else:
            events = self.runtime.invoke_model_stream(model_id, to_anthropic_body(request))
            assembler = AnthropicStreamAssembler()
        first_token_ms: float | None = None
        for event in events:
            delta = assembler.feed(event)
            if delta:
                if first_token_ms is None:
                    first_token_ms = (time.perf_counter() - started) * 1000
                if listener is not None:
                    listener.on_text(delta)
        return assembler.response(), first_token_ms

    # ---- structured output ------------------------------------------------------------------------

    @staticmethod
    def _parse_structured(result: Result[str], name: str, model: type[M]) -> tuple[M | None, str]:
        calls = [t for t in result.tool_calls if t.name == name]
        if not calls:
            return None, f"no call to tool {name!r}"
        try:
            return model.model_validate(calls[0].input), ""
        except ValidationError as exc:
            return None, str(exc)

    @staticmethod
    def _corrective_history(
        messages: list[dict[str, Any]], result: Result[str], name: str, problem: str
    ) -> list[dict[str, Any]]:
        history = list(messages)
        if result.message.get("content"):
            history.append(result.message)
        fix = f"Your {name} input was invalid: {problem}. Call {name} again with input that satisfies the schema."
        content: list[dict[str, Any]] = [
            {"toolResult": {"toolUseId": t.tool_use_id, "content": [{"text": fix}], "status": "error"}}
            for t in result.tool_calls
        ]
        if not content:
            content = [{"text": f"Respond only by calling the tool {name}."}]
        history.append({"role": "user", "content": content})
        return normalise_messages(history)
