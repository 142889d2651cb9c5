"""Message normalisation happens before any call: merged roles, clear errors for empty content."""

from __future__ import annotations

import pytest

from tests.unit.bedrock.fakes import FakeBedrockRuntime
from workers.shared.bedrock import BedrockClient, ModelInputInvalid
from workers.shared.bedrock.messages import drop_oldest, normalise_messages, normalise_system


def test_consecutive_same_role_messages_are_merged() -> None:
    merged = normalise_messages(
        [
            {"role": "user", "content": "my order"},
            {"role": "user", "content": [{"text": "is late"}]},
            {"role": "assistant", "content": "sorry"},
            {"role": "user", "content": "well?"},
        ]
    )
    assert [m["role"] for m in merged] == ["user", "assistant", "user"]
    assert merged[0]["content"] == [{"text": "my order"}, {"text": "is late"}]


@pytest.mark.parametrize("content", ["", "   ", [], [{"text": ""}]])
def test_empty_content_is_rejected_before_any_call(
    client: BedrockClient, runtime: FakeBedrockRuntime, content: object
) -> None:
    with pytest.raises(ModelInputInvalid, match=r"empty content|no content"):
        client.converse("classification", [{"role": "user", "content": content}])
    assert runtime.calls() == 0


def test_unknown_role_and_assistant_first_are_rejected() -> None:
    with pytest.raises(ModelInputInvalid, match="role"):
        normalise_messages([{"role": "system", "content": "x"}])
    with pytest.raises(ModelInputInvalid, match="first message"):
        normalise_messages([{"role": "assistant", "content": "x"}])
    with pytest.raises(ModelInputInvalid, match="at least one"):
        normalise_messages([])


def test_system_prompt_becomes_blocks() -> None:
    assert normalise_system("be brief") == [{"text": "be brief"}]
    assert normalise_system("  ") == []
    assert normalise_system(None) == []


def test_drop_oldest_never_drops_newest_and_never_starts_with_a_tool_result() -> None:
    history = normalise_messages(
        [
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "r"}]}}]},
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"},
        ]
    )
    kept = drop_oldest(history, 2)  # would start at the orphaned toolResult
    assert kept == [{"role": "user", "content": [{"text": "q2"}]}]
    assert drop_oldest(history, 99) == [history[-1]]
