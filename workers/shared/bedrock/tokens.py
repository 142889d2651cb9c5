"""Input-token counting (Bedrock CountTokens, else a chars/token estimate with margin) and budget fitting."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from workers.shared.bedrock.errors import BedrockError, TokenBudgetExceeded, translate_client_error
from workers.shared.bedrock.messages import Message, drop_oldest, message_chars
from workers.shared.bedrock.ports import BedrockRuntimePort
from workers.shared.bedrock.result import TokenCount
from workers.shared.bedrock.settings import BedrockSettings, ModelSpec, foundation_model_id

logger = logging.getLogger(__name__)

_PER_MESSAGE_OVERHEAD_CHARS = 12


@dataclass(frozen=True, slots=True)
class FittedRequest:
    """A Converse request that fits its limits, how its tokens were counted, and what was trimmed."""

    request: dict[str, Any]
    count: TokenCount
    trimmed_messages: int


class TokenCounter:
    """Counts a Converse request's input tokens for one model."""

    def __init__(self, settings: BedrockSettings, runtime: BedrockRuntimePort | None) -> None:
        self._settings = settings
        self._runtime = runtime

    def estimate_chars(self, request: dict[str, Any]) -> int:
        """Characters the model will read: system, messages, tool definitions."""
        chars = sum(message_chars(m) + _PER_MESSAGE_OVERHEAD_CHARS for m in request["messages"])
        chars += sum(len(str(b.get("text", ""))) for b in request.get("system", []))
        if "toolConfig" in request:
            chars += len(json.dumps(request["toolConfig"], separators=(",", ":"), default=str))
        return chars

    def estimate(self, request: dict[str, Any]) -> int:
        """Offline estimate: chars / chars_per_token, inflated by the configured safety margin."""
        raw = self.estimate_chars(request) / self._settings.chars_per_token
        return math.ceil(raw * (1 + self._settings.token_estimate_margin))

    def count(self, spec: ModelSpec, model_id: str, request: dict[str, Any]) -> TokenCount:
        """Count with Bedrock CountTokens where the model supports it, otherwise estimate."""
        if self._runtime is None or not (spec.supports_count_tokens and self._settings.use_count_tokens_api):
            return TokenCount(self.estimate(request), "estimate")
        converse: dict[str, Any] = {"messages": request["messages"]}
        for key in ("system", "toolConfig"):
            if request.get(key):
                converse[key] = request[key]
        target = spec.count_tokens_model_id or foundation_model_id(model_id)
        try:
            tokens = self._runtime.count_tokens(target, {"converse": converse})
        except ClientError as exc:
            error: BedrockError = translate_client_error(exc, target)
            logger.warning(
                "count tokens failed; estimating instead",
                extra={"model_id": target, "error_code": error.code},
            )
            return TokenCount(self.estimate(request), "estimate")
        return TokenCount(tokens, "count_tokens")


def input_limit(spec: ModelSpec, max_tokens: int, max_input_tokens: int | None) -> int:
    """The most input tokens allowed: the context window less the output reserve, and the caller's budget."""
    limit = spec.context_window - max_tokens
    return min(limit, max_input_tokens) if max_input_tokens is not None else limit


def fit_request(
    counter: TokenCounter,
    spec: ModelSpec,
    model_id: str,
    request: dict[str, Any],
    *,
    limit: int,
    policy: str,
) -> FittedRequest:
    """Return the request within ``limit`` input tokens, trimming history oldest-first, or raise."""
    count = counter.count(spec, model_id, request)
    if count.tokens <= limit:
        return FittedRequest(request, count, 0)
    if policy == "refuse":
        raise TokenBudgetExceeded(
            f"input needs {count.tokens} tokens; the limit for {model_id} is {limit}",
            model_id=model_id,
            needed=count.tokens,
            limit=limit,
        )
    messages: list[Message] = request["messages"]
    # Scale per-message estimates to the measured total so one count call decides how much to drop.
    scale = count.tokens / max(counter.estimate(request), 1)
    sizes = [counter.estimate({"messages": [m]}) * scale for m in messages]
    excess: float = count.tokens - limit
    drop = 0
    while excess > 0 and drop < len(messages) - 1:
        excess -= sizes[drop]
        drop += 1
    while True:
        kept = drop_oldest(messages, drop)
        trimmed = {**request, "messages": kept}
        recount = counter.count(spec, model_id, trimmed)
        if recount.tokens <= limit:
            break
        if len(kept) == 1:
            raise TokenBudgetExceeded(
                f"input needs {recount.tokens} tokens even with history trimmed to the newest turn; "
                f"the limit for {model_id} is {limit}",
                model_id=model_id,
                needed=recount.tokens,
                limit=limit,
            )
        drop = len(messages) - len(kept) + 1
    dropped = len(messages) - len(trimmed["messages"])
    logger.info("history trimmed to fit", extra={"model_id": model_id, "dropped": dropped, "limit": limit})
    return FittedRequest(trimmed, recount, dropped)
