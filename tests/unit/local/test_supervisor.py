"""The supervisor restarts a worker that dies, counts it, tells its listeners, and gives up on a crash loop."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from supportflow.local.supervisor import RestartPolicy, Supervisor, WorkerError, WorkerEvent, WorkerProcess
from workers.shared.runtime.consumer import ConsumerConfig

# Stands in for a consumer that starts (writes its ready file, as the real one does) and then crashes.
_READY_THEN_CRASH = "import pathlib, sys; pathlib.Path(sys.argv[1]).touch(); sys.exit(3)"


class CrashingWorker(WorkerProcess):
    """A worker process whose program becomes ready, then exits with code 3."""

    @property
    def command(self) -> list[str]:
        """Python running the crash script, given the ready file."""
        return [sys.executable, "-c", _READY_THEN_CRASH, str(self.ready_file)]


def _wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_crash_looping_worker_is_restarted_with_back_off_then_given_up(tmp_path: Path) -> None:
    # Given a supervisor that gives up after 3 quick deaths, and a worker that crashes right after starting
    supervisor = Supervisor(
        RestartPolicy(initial_delay_seconds=0.01, max_delay_seconds=0.02, max_consecutive_failures=3),
        check_interval_seconds=0.01,
    )
    events: list[WorkerEvent] = []
    supervisor.listeners.append(events.append)
    config = ConsumerConfig(queue_url="http://unused", handler="unused.handler", ready_file=tmp_path / "w.ready")
    worker = CrashingWorker("w", "Function", config, environment={}, cwd=tmp_path, log_path=None)
    try:
        # When it is launched and keeps dying
        supervisor.launch([worker])
        _wait_for(lambda: supervisor.given_up() == ["w"], 10)
    finally:
        supervisor.shutdown()

    # Then it was restarted three times, each death reported with its exit code, and then given up on
    assert supervisor.restarts["w"] == 3
    assert [e.kind for e in events] == ["died", "restarted"] * 3 + ["given-up"]
    assert {e.exit_code for e in events} == {3}
    assert [e.delay_seconds for e in events if e.kind == "died"] == [0.01, 0.02, 0.02]
    with pytest.raises(WorkerError, match="given up"):
        supervisor.check()


def test_a_worker_stopped_on_purpose_is_not_restarted(tmp_path: Path) -> None:
    # Given a supervised worker that would crash
    supervisor = Supervisor(RestartPolicy(initial_delay_seconds=0.01), check_interval_seconds=0.01)
    config = ConsumerConfig(queue_url="http://unused", handler="unused.handler", ready_file=tmp_path / "w.ready")
    worker = CrashingWorker("w", "Function", config, environment={}, cwd=tmp_path, log_path=None)
    try:
        supervisor.launch([worker])
        # When it is stopped and forgotten (stop_consumer), Then nothing restarts it
        supervisor.stop(["w"], forget=True)
        time.sleep(0.2)
        assert supervisor.restarts["w"] == 0
        assert "w" not in supervisor.workers
    finally:
        supervisor.shutdown()
