"""The process supervisor: consumer subprocesses started, watched, restarted with back-off, stopped."""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from supportflow.local.readiness import READY_TIMEOUT_SECONDS
from workers.shared.runtime.consumer import ConsumerConfig

logger = logging.getLogger("supportflow.local")

WORKER_STOP_TIMEOUT_SECONDS = 10.0


class WorkerError(RuntimeError):
    """A worker process failed to start, or died and was given up on."""


@dataclass(frozen=True)
class RestartPolicy:
    """Exponential back-off between restarts of one worker; a crash loop is given up on."""

    initial_delay_seconds: float = 0.5
    max_delay_seconds: float = 30.0
    # A worker that served this long before dying starts its back-off afresh.
    stable_after_seconds: float = 30.0
    # Consecutive quick deaths after which the worker is left dead (its handler cannot start, say).
    max_consecutive_failures: int = 5

    def delay(self, consecutive_failures: int) -> float:
        """Seconds to wait before restart number ``consecutive_failures`` (1-based) of a crash run."""
        return float(min(self.max_delay_seconds, self.initial_delay_seconds * 2 ** (consecutive_failures - 1)))


@dataclass(frozen=True)
class WorkerEvent:
    """What the supervisor did about a worker, for whoever reports it (``supportflow up`` prints it)."""

    kind: Literal["died", "restarted", "given-up"]
    key: str
    exit_code: int | None
    restarts: int
    delay_seconds: float = 0.0


@dataclass
class WorkerProcess:
    """One consumer subprocess: a function's handler polling one queue."""

    key: str
    function_logical_id: str
    config: ConsumerConfig
    environment: dict[str, str]
    cwd: Path
    log_path: Path | None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    _log_handle: Any = field(default=None, repr=False)

    @property
    def queue_url(self) -> str:
        """The queue this worker polls."""
        return self.config.queue_url

    @property
    def command(self) -> list[str]:
        """The consumer's command line (built in one place: ``ConsumerConfig.command_line``)."""
        return self.config.command_line()

    @property
    def ready_file(self) -> Path:
        """The file the consumer creates once its handler is imported and it polls."""
        if self.config.ready_file is None:
            msg = f"worker {self.key} has no ready file"
            raise WorkerError(msg)
        return self.config.ready_file

    def start(self) -> None:
        """Spawn the consumer (cwd = project root, so handler modules import as in the Lambda zip)."""
        self.ready_file.unlink(missing_ok=True)
        output: Any = None
        if self.log_path is not None and self._log_handle is None:
            self._log_handle = self.log_path.open("ab")
        if self._log_handle is not None:
            output = self._log_handle
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.command, cwd=self.cwd, env=self.environment, stdout=output, stderr=output
        )
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """The exit code once the process has ended (negative: killed by that signal)."""
        return None if self.process is None else self.process.poll()

    def wait_ready(self, deadline: float) -> None:
        """Block until the consumer has imported its handler and starts polling."""
        while not self.ready_file.exists():
            if not self.alive:
                msg = f"worker {self.key} exited with code {self.exit_code} before polling"
                msg += f" (see {self.log_path or 'stderr'})"
                raise WorkerError(msg)
            if time.monotonic() > deadline:
                msg = f"worker {self.key} not ready after {READY_TIMEOUT_SECONDS} s"
                raise WorkerError(msg)
            time.sleep(0.05)

    def terminate(self) -> None:
        """Send SIGTERM: the consumer finishes its current poll and batch, then exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL if it hangs."""
        self.terminate()
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.wait(WORKER_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("worker did not stop in time; killing", extra={"worker": self.key})
                self.process.kill()
                self.process.wait()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None


@dataclass
class _Watch:
    consecutive_failures: int = 0
    restart_at: float | None = None
    given_up: bool = False


class Supervisor:
    """Runs worker processes and restarts one that dies, with exponential back-off, saying so.

    ``restarts`` counts restarts per worker key (what a run report reads); ``listeners`` are called
    with a :class:`WorkerEvent` for every death, restart and give-up.
    """

    def __init__(self, policy: RestartPolicy | None = None, *, check_interval_seconds: float = 0.1) -> None:
        self.policy = policy or RestartPolicy()
        self.workers: dict[str, WorkerProcess] = {}
        self.restarts: Counter[str] = Counter()
        self.listeners: list[Callable[[WorkerEvent], None]] = []
        self._watches: dict[str, _Watch] = {}
        self._given_up: set[str] = set()
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._interval = check_interval_seconds
        self._thread = threading.Thread(target=self._watch_loop, name="worker-supervisor", daemon=True)
        self._thread.start()

    def launch(self, workers: Iterable[WorkerProcess]) -> None:
        """Start these workers, wait until each polls, and supervise them from then on."""
        pending = list(workers)
        with self._lock:
            for worker in pending:
                self.workers[worker.key] = worker
                worker.start()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        for worker in pending:
            worker.wait_ready(deadline)
        with self._lock:
            for worker in pending:
                self._watches[worker.key] = _Watch()
                self._given_up.discard(worker.key)

    def stop(self, keys: Iterable[str] | None = None, *, forget: bool = False) -> list[WorkerProcess]:
        """Stop these workers (default: all) on purpose: they are not restarted. Returns them."""
        with self._lock:
            chosen = [self.workers[k] for k in (self.workers if keys is None else keys) if k in self.workers]
            for worker in chosen:
                self._watches.pop(worker.key, None)
                if forget:
                    del self.workers[worker.key]
                    self._given_up.discard(worker.key)
        # Signal every worker first so their last polls finish in parallel, not one after another.
        for worker in chosen:
            worker.terminate()
        for worker in chosen:
            worker.stop()
        return chosen

    @contextmanager
    def paused(self, keys: Iterable[str]) -> Iterator[None]:
        """Stop these workers for the block, then start them again."""
        chosen = self.stop(list(keys))
        try:
            yield
        finally:
            if not self._stopped.is_set():
                self.launch(chosen)

    def shutdown(self) -> None:
        """Stop watching, then stop every worker."""
        self._stopped.set()
        self._thread.join(timeout=5)
        self.stop()

    def given_up(self) -> list[str]:
        """Keys of workers that kept dying and are no longer restarted."""
        with self._lock:
            return sorted(self._given_up)

    def check(self) -> None:
        """Raise if a worker is dead for good (given up after repeated deaths)."""
        dead = self.given_up()
        if dead:
            msg = f"worker(s) died and were given up on: {dead}"
            raise WorkerError(msg)

    # ------------------------------------------------------------ watching

    def _watch_loop(self) -> None:
        while not self._stopped.wait(self._interval):
            events: list[WorkerEvent] = []
            with self._lock:
                for key, watch in list(self._watches.items()):
                    event = self._check_one(self.workers[key], watch)
                    if event is not None:
                        events.append(event)
            for event in events:
                self._emit(event)

    def _check_one(self, worker: WorkerProcess, watch: _Watch) -> WorkerEvent | None:
        if watch.given_up or worker.alive:
            return None
        now = time.monotonic()
        if watch.restart_at is None:
            if now - worker.started_at >= self.policy.stable_after_seconds:
                watch.consecutive_failures = 0
            watch.consecutive_failures += 1
            if watch.consecutive_failures > self.policy.max_consecutive_failures:
                watch.given_up = True
                self._given_up.add(worker.key)
                return WorkerEvent("given-up", worker.key, worker.exit_code, self.restarts[worker.key])
            delay = self.policy.delay(watch.consecutive_failures)
            watch.restart_at = now + delay
            return WorkerEvent("died", worker.key, worker.exit_code, self.restarts[worker.key], delay)
        if now < watch.restart_at:
            return None
        watch.restart_at = None
        exit_code = worker.exit_code
        worker.start()
        self.restarts[worker.key] += 1
        return WorkerEvent("restarted", worker.key, exit_code, self.restarts[worker.key])

    def _emit(self, event: WorkerEvent) -> None:
        extra = {"worker": event.key, "exit_code": event.exit_code, "restarts": event.restarts}
        if event.kind == "died":
            logger.warning("worker died; restarting", extra={**extra, "restart_in_seconds": event.delay_seconds})
        elif event.kind == "restarted":
            logger.warning("worker restarted", extra=extra)
        else:
            logger.error("worker keeps dying; given up", extra=extra)
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception as error:  # a reporting failure must not stop supervision
                logger.warning("worker event listener failed", extra={"error_type": type(error).__name__})
