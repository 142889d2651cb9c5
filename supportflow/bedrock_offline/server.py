"""The offline Bedrock HTTP server: bedrock-runtime's REST-JSON wire protocol on 127.0.0.1.

Routing lives in ``routing``, the operations in ``operations`` and the wire encoding in ``wire``; this module
is the HTTP transport, the process-wide model and the ``OfflineBedrock`` lifecycle.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.emulator_link import EmulatorLink
from supportflow.bedrock_offline.faults import FaultPlan, FaultRule
from supportflow.bedrock_offline.jobs import JobSettings
from supportflow.bedrock_offline.operations import BedrockApp
from supportflow.bedrock_offline.routing import BANK_HEADER, Request, Response

__all__ = ["BANK_HEADER", "BedrockApp", "OfflineBedrock", "get_brain", "serve_forever"]

log = logging.getLogger(__name__)

_brain_lock = threading.Lock()
_brain: Brain | None = None


def get_brain() -> Brain:
    """The process-wide model (loaded once; ~1 s with a warm cache)."""
    global _brain  # noqa: PLW0603  (one model per process: it is large and read-only)
    with _brain_lock:
        if _brain is None:
            _brain = Brain()
        return _brain


# --- HTTP ------------------------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked transfer for streams
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, {k: v for k, v in self.headers.items()}, body, parts.query)
        response = self.server.app.dispatch(request)
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):
            # The client went away mid-stream (e.g. stopped iterating); nothing to tell it.
            self.close_connection = True

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for frame in response.stream:
            # One HTTP chunk per frame, flushed, so clients see the first token as soon as it exists.
            self.wfile.write(f"{len(frame):X}\r\n".encode() + frame + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: BedrockApp) -> None:
        self.app = app
        super().__init__(address, _RequestHandler)


FaultsArg = FaultPlan | Iterable[FaultRule | Mapping[str, Any]] | str | Path | None


def _fault_plan(faults: FaultsArg) -> FaultPlan:
    if faults is None:
        return FaultPlan.from_env()
    if isinstance(faults, FaultPlan):
        return faults
    if isinstance(faults, str | Path):
        return FaultPlan.from_file(Path(faults))
    return FaultPlan(faults)


class OfflineBedrock:
    """An offline bedrock-runtime endpoint in a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultsArg = None,
        emulator_url: str | None = None,
        jobs: JobSettings | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.faults = _fault_plan(faults)
        # Asynchronous jobs (Data Automation, batch inference) use the emulator's S3 and default bus.
        self.emulator = EmulatorLink(emulator_url)
        self.jobs = jobs or JobSettings()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.app: BedrockApp | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> str:
        """Load and warm the model, bind, serve in a daemon thread; return the endpoint URL."""
        if self._server is not None:
            return self.url
        started = time.perf_counter()
        brain = get_brain()
        # Touch numpy and the e5 engine once; label prompts are embedded lazily (~0.4 s on the first 27-way call).
        brain.classify("warm up", ["track_order", "get_refund"])
        self.app = BedrockApp(brain, self.faults, self.emulator, self.jobs)
        self._server = _Server((self.host, self.port), self.app)
        self._thread = threading.Thread(target=self._server.serve_forever, name="offline-bedrock", daemon=True)
        self._thread.start()
        log.info("offline bedrock on %s (ready in %.2fs)", self.url, time.perf_counter() - started)
        return self.url

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def request_count(self, operation: str | None = None, model_id: str | None = None) -> int:
        """Requests received (every attempt), filtered by operation name and/or model id."""
        return self.app.request_count(operation, model_id) if self.app else 0

    def reset_counts(self) -> None:
        """Zero the request counters."""
        if self.app:
            self.app.reset_counts()

    def connect_emulator(self, endpoint_url: str, region: str | None = None) -> None:
        """Where job input/output objects and job events go (the local stack's emulator)."""
        self.emulator.connect(endpoint_url, region)

    def drop_job_events(self, first: int | None = None) -> None:
        """Lose the next ``first`` job events (all when None) until ``deliver_job_events``."""
        if self.app:
            self.app.job_events.drop(first)

    def deliver_job_events(self) -> None:
        """Put every job event on the bus again."""
        if self.app:
            self.app.job_events.reset()

    def __enter__(self) -> OfflineBedrock:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(host: str = "127.0.0.1", port: int = 8766, ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (the ``supportflow bedrock --port`` command); ``ready`` gets the URL."""
    server = OfflineBedrock(host=host, port=port)
    url = server.start()
    if ready is not None:
        ready(url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log.info("stopping offline bedrock")
    finally:
        # A second Ctrl-C (or a supervisor forwarding the signal) must not abort the shutdown half-way.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()
