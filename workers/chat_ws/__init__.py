"""The WebSocket chat: $connect / $disconnect / chat.send_message, answers streamed through @connections."""
