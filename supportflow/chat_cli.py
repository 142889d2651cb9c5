"""``supportflow chat``: a terminal client of the WebSocket chat protocol; tokens print as they arrive."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Iterable
from typing import Any, TextIO

URL_ENV = "SUPPORTFLOW_CHAT_URL"
API_KEY_ENV = "SUPPORTFLOW_API_KEY"
TURN_TIMEOUT_SECONDS = 120.0


class ChatFailed(RuntimeError):
    """The server answered a turn with ``chat.error``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def with_command(parser: argparse.ArgumentParser, commands: Any) -> argparse.ArgumentParser:
    """Register ``chat`` on the CLI's subcommands; the parser, for chaining."""
    chat = commands.add_parser("chat", help="chat with the model over the WebSocket API; tokens stream in")
    chat.add_argument("message", nargs="?", help="one message, then exit (default: read lines from stdin)")
    chat.add_argument("--url", default=os.environ.get(URL_ENV), help=f"ws(s)://host/stage (default ${URL_ENV})")
    chat.add_argument("--api-key", default=os.environ.get(API_KEY_ENV), help=f"x-api-key (default ${API_KEY_ENV})")
    chat.add_argument("--token", default=None, help="a bearer token instead of an API key")
    chat.add_argument("--session", default=None, help="session id (default: a new one)")
    chat.add_argument("--route", default=None, help="model route (task) to answer on")
    return parser


def run_chat(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Connect, send each message, print the stream and the usage; 1 on a protocol error or refusal."""
    from websockets.exceptions import InvalidStatus  # noqa: PLC0415 - the local extra, only for this command
    from websockets.sync.client import connect  # noqa: PLC0415

    out = stdout or sys.stdout
    if not args.url:
        sys.stderr.write(f"supportflow chat: give --url or set ${URL_ENV}\n")
        return 2
    headers = {}
    if args.api_key:
        headers["x-api-key"] = args.api_key
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    session_id = args.session or f"cli-{uuid.uuid4().hex[:12]}"
    messages: Iterable[str] = [args.message] if args.message else _lines(stdin or sys.stdin, out)
    try:
        with connect(args.url, additional_headers=headers, open_timeout=10) as socket:
            for message in messages:
                payload = {"action": "chat.send_message", "session_id": session_id, "message": message}
                if args.route:
                    payload["route"] = args.route
                socket.send(json.dumps(payload))
                chat_turn(lambda: socket.recv(timeout=TURN_TIMEOUT_SECONDS), out)
    except InvalidStatus as refused:
        sys.stderr.write(f"supportflow chat: connection refused ({refused.response.status_code})\n")
        return 1
    except ChatFailed as failed:
        sys.stderr.write(f"\nsupportflow chat: {failed}\n")
        return 1
    return 0


def chat_turn(receive: Any, out: TextIO) -> dict[str, Any]:
    """Print one turn's stream as it arrives, then its usage; the ``chat.message_complete`` message."""
    while True:
        message = json.loads(receive())
        kind = message.get("type")
        if kind == "chat.message_stream":
            out.write(message["delta"])
            out.flush()
        elif kind == "chat.message_reset":
            out.write("\n[the stream restarts]\n")
        elif kind == "chat.message_complete":
            usage = message["usage"]
            out.write(
                f"\n[{message['model_id']}] tokens in {usage['input_tokens']}, out {usage['output_tokens']}, "
                f"total {usage['total_tokens']}; cost ${message['cost_usd']:.6f}\n"
            )
            out.flush()
            return dict(message)
        elif kind == "chat.error":
            raise ChatFailed(str(message.get("code")), str(message.get("message")))


def _lines(stdin: TextIO, out: TextIO) -> Iterable[str]:
    interactive = stdin.isatty()
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = stdin.readline()
        if not line:
            return
        if line.strip():
            yield line.strip()
