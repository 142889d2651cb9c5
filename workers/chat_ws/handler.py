"""Lambda entry point of the WebSocket chat ($connect, $disconnect, $default, chat.send_message): glue only."""

from __future__ import annotations

from workers.chat_ws.dispatch import CORRELATION_PATH, handle_event
from workers.chat_ws.wiring import build_app
from workers.shared.runtime.function import function_worker

lambda_handler = function_worker(build_app, handle_event, service="chat-ws", correlation_path=CORRELATION_PATH)
