"""The chat model adapter over the shared Bedrock client (routes, retries, oldest-first history trimming)."""

from __future__ import annotations

from collections.abc import Sequence

from workers.api.models import TurnOut
from workers.api.ports import ModelReply
from workers.shared.bedrock import BedrockClient

CHAT_TASK = "chat"
# A cheap pre-call estimate (the client counts exactly when it trims); errs on the high side for English.
_CHARS_PER_TOKEN = 3.0


class BedrockChatModel:
    """Converse on the named route (default: the ``chat`` task's route) with the system prompt apart."""

    def __init__(self, client: BedrockClient) -> None:
        self._client = client

    def reply(self, system: str, turns: Sequence[TurnOut], *, route: str | None, max_input_tokens: int) -> ModelReply:
        """One Converse call; history beyond ``max_input_tokens`` is dropped oldest-first, the newest turn kept."""
        result = self._client.converse(
            route or CHAT_TASK,
            [{"role": turn.role, "content": turn.text} for turn in turns],
            system=system,
            max_input_tokens=max_input_tokens,
        )
        return ModelReply(
            text=result.text,
            model_id=result.model_id,
            input_tokens=result.usage.input_tokens,
            output_tokens=result.usage.output_tokens,
            cost_usd=result.cost_usd,
        )

    def estimate(self, system: str, turns: Sequence[TurnOut], max_output_tokens: int) -> int:
        """Input characters over a conservative ratio, plus the output ceiling."""
        characters = len(system) + sum(len(turn.text) for turn in turns)
        return int(characters / _CHARS_PER_TOKEN) + max_output_tokens
