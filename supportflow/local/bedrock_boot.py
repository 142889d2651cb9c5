"""The offline Bedrock started beside the stack, in a thread so its model warm-up overlaps the deployment."""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from typing import Any

logger = logging.getLogger("supportflow.local")


class BedrockBoot:
    """Start the offline Bedrock in a thread, so its model warm-up overlaps the deployment."""

    def __init__(self) -> None:
        self._result: tuple[Any, str | None] = (None, None)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="offline-bedrock-boot", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = _start_offline_bedrock()
        except Exception as error:
            self._error = error

    def result(self) -> tuple[Any, str | None]:
        """(server, url), or (None, None) if the module is not there; re-raises a failed start."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    def discard(self) -> None:
        """Stop the server if it started (boot failed elsewhere)."""
        self._thread.join()
        server = self._result[0]
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()


def _start_offline_bedrock() -> tuple[Any, str | None]:
    try:
        server_module = importlib.import_module("supportflow.bedrock_offline.server")
    except ImportError as error:
        logger.warning("offline Bedrock not available; workers get no Bedrock endpoint", extra={"error": repr(error)})
        return None, None
    server = server_module.OfflineBedrock(host="127.0.0.1", port=0)
    url = str(server.start())
    logger.info("offline Bedrock started", extra={"bedrock_url": url})
    return server, url
