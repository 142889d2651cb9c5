"""A worker that dies is restarted by the stack's supervisor, and the batch it held comes back soon."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from supportflow.local import EmulatedStack

pytestmark = pytest.mark.integration

HANDLER = "tests.integration.local_stack.supervised_handlers.hold_first_delivery_then_record"
# The queue's own VisibilityTimeout: far longer than the test waits, so only the local short
# receive visibility can bring the held message back in time.
QUEUE_VISIBILITY_SECONDS = 300


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_killed_worker_is_restarted_and_the_message_it_held_is_processed(
    local_stack: EmulatedStack, unique_id: str, tmp_path: Path
) -> None:
    # Given a supervised worker holding a message mid-batch, on a queue with a 300 s visibility timeout
    sqs = local_stack.clients.sqs
    url = sqs.create_queue(
        QueueName=f"supervised-{unique_id}", Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY_SECONDS)}
    )["QueueUrl"]
    key = f"supervised-{unique_id}"
    worker = local_stack.start_consumer(
        key, url, HANDLER, environment={"SUPERVISOR_TEST_DIR": str(tmp_path)}, batch_size=1, timeout_seconds=3
    )
    try:
        message_id = sqs.send_message(QueueUrl=url, MessageBody=f"ticket {unique_id}")["MessageId"]
        _wait_for((tmp_path / "held").exists, 30, "the worker to take the message")
        assert worker.process is not None
        killed_pid = worker.process.pid

        # When the worker process is killed (SIGKILL: no chance to hand the message back)
        os.kill(killed_pid, signal.SIGKILL)

        # Then the supervisor restarts it and counts the restart
        _wait_for(lambda: local_stack.supervisor.restarts[key] == 1, 30, "the restart")
        assert worker.process.pid != killed_pid
        # And the message it held is processed by the new process, long before the queue's timeout
        processed = tmp_path / f"processed-{message_id}"
        _wait_for(processed.exists, 60, "the held message to be processed")
        assert processed.read_text() == f"ticket {unique_id}"
        assert worker.alive
        local_stack.check_workers()
    finally:
        local_stack.stop_consumer(key)
