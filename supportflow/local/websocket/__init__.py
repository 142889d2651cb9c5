"""The template's API Gateway WebSocket APIs served on 127.0.0.1: frames in, @connections back to the socket."""

from supportflow.local.websocket.gateway import WebSocketApiSpec, WebSocketGateway

__all__ = ["WebSocketApiSpec", "WebSocketGateway"]
