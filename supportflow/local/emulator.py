"""The AWS endpoint the local stack deploys into: moto's server in this process, or an external one."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import urllib.request
from typing import Any

from supportflow.local import moto_patches

logger = logging.getLogger("supportflow.local")

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def is_moto_server(endpoint_url: str) -> bool:
    """True if the endpoint is a moto server (it answers on ``/moto-api/``); LocalStack does not."""
    if not endpoint_url.startswith(("http://", "https://")):
        return False
    try:
        with urllib.request.urlopen(f"{endpoint_url.rstrip('/')}/moto-api/", timeout=5) as response:  # noqa: S310
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def configure_moto(endpoint_url: str, config: dict[str, Any] = MOTO_CONFIG) -> None:
    """POST /moto-api/config on a moto server (switches Step Functions execution on, Lambda docker off)."""
    _post_moto_api(endpoint_url, "config", config)


def _post_moto_api(endpoint_url: str, operation: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 - the emulator's own endpoint
        f"{endpoint_url.rstrip('/')}/moto-api/{operation}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


class MotoEmulator:
    """moto's threaded server on 127.0.0.1; one per process, because moto's backends are process-global."""

    _lock = threading.Lock()
    _shared: MotoEmulator | None = None
    _users = 0

    def __init__(self, server: Any, port: int) -> None:
        self._server = server
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"

    @classmethod
    def acquire(cls, port: int | None = None) -> MotoEmulator:
        """Start the process's emulator, or share the one already running."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls._boot(port or free_port())
            cls._users += 1
            return cls._shared

    @classmethod
    def _boot(cls, port: int) -> MotoEmulator:
        # Before the IAM backend exists: SAM roles attach AWS managed policies, which moto only
        # knows when told to load them (~0.5 s).
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        # The Step Functions interpreter calls back into the server on localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - ~1 s import, only when booting

        # moto's SQS scans every stored message several times per call; see moto_patches.
        moto_patches.apply()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        emulator = cls(server, port)
        # moto's backends outlive a stopped server in this process: start from a clean slate.
        _post_moto_api(emulator.endpoint_url, "reset", {})
        emulator.configure(MOTO_CONFIG)
        logger.info("moto server started", extra={"endpoint_url": emulator.endpoint_url})
        return emulator

    def configure(self, config: dict[str, Any]) -> None:
        """POST /moto-api/config (switches Step Functions execution on, Lambda docker off)."""
        configure_moto(self.endpoint_url, config)

    @classmethod
    def release(cls) -> None:
        """Stop the server once its last user is done."""
        with cls._lock:
            cls._users = max(0, cls._users - 1)
            if cls._users or cls._shared is None:
                return
            emulator, cls._shared = cls._shared, None
        emulator._server.stop()
        logger.info("moto server stopped", extra={"endpoint_url": emulator.endpoint_url})
