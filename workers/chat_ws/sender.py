"""The ``@connections`` management API adapter: posts to a socket, GoneException becomes ConnectionGone."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from workers.chat_ws.ports import ConnectionGone


class ManagementApiSender:
    """Posts through an ``apigatewaymanagementapi`` client built for the API's ``https://{domain}/{stage}``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def post(self, connection_id: str, data: bytes) -> None:
        """PostToConnection; a vanished connection raises ``ConnectionGone``."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "GoneException":
                raise ConnectionGone(connection_id) from exc
            raise
