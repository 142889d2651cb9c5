"""``supportflow chat`` against the local WebSocket API: the streamed answer, then the usage line."""

from __future__ import annotations

import io

import pytest

from supportflow.chat_cli import run_chat
from supportflow.cli import _parser
from tests.integration.chat_ws.conftest import ChatApi


def test_one_message_prints_the_answer_and_its_usage(chat_api: ChatApi) -> None:
    # Given the CLI pointed at the local API with acme's key
    args = _parser().parse_args(
        ["chat", "--url", chat_api.gateway.url, "--api-key", "key-acme", "--session", "cli-1", "Where is my order?"]
    )
    out = io.StringIO()
    # When it runs
    status = run_chat(args, stdout=out)
    # Then it exits 0 and printed exactly the kept answer, then the usage
    answer = chat_api.sessions.history("acme", "cli-1")[1].text
    printed = out.getvalue()
    assert status == 0
    assert printed.startswith(answer + "\n[")
    assert "tokens in " in printed
    assert "cost $" in printed


def test_lines_from_stdin_are_turns_of_one_session(chat_api: ChatApi) -> None:
    # Given two lines on stdin
    args = _parser().parse_args(["chat", "--url", chat_api.gateway.url, "--api-key", "key-acme", "--session", "cli-2"])
    # When the CLI reads them
    status = run_chat(args, stdin=io.StringIO("Hello\n\nMy invoice is wrong\n"), stdout=io.StringIO())
    # Then both (not the blank line) are turns of the session
    assert status == 0
    assert [t.text for t in chat_api.sessions.history("acme", "cli-2") if t.role == "user"] == [
        "Hello",
        "My invoice is wrong",
    ]


def test_a_refused_key_exits_1(chat_api: ChatApi, capsys: pytest.CaptureFixture[str]) -> None:
    # When the CLI connects with an unknown key, Then it exits 1 and says the connection was refused
    args = _parser().parse_args(["chat", "--url", chat_api.gateway.url, "--api-key", "nope", "hi"])
    assert run_chat(args, stdout=io.StringIO()) == 1
    assert "refused (401)" in capsys.readouterr().err
