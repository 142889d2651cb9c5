"""``supportflow run --chaos``: faults injected while tickets flow, each counted for the report.

Bedrock throttles on about 5 % of calls (the offline Bedrock's fault rules), a worker process killed
mid-batch about once per hundred tickets (the supervisor restarts it), a CRM outage of a few seconds
(its local API process paused, so calls time out as in a real outage), and poison messages on the
workers' queues (they must end in the DLQs).
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supportflow.local.observe import queue_depth
from supportflow.local.stack import EmulatedStack

logger = logging.getLogger("supportflow.local.run.chaos")

THROTTLE_EVERY_CALLS = 20  # ~5 %
TICKETS_PER_KILL = 100
CRM_OUTAGE_SECONDS = 3.0
POISON_MARKER = "supportflow_poison"


@dataclass
class ChaosStats:
    """What was injected."""

    throttles: int = 0
    kills: list[str] = field(default_factory=list)
    crm_outage_seconds: float = 0.0
    poison: dict[str, str] = field(default_factory=dict)  # poison id -> queue logical id

    def as_dict(self) -> dict[str, Any]:
        """The report's ``chaos`` entry."""
        return {
            "bedrock_throttles": self.throttles,
            "workers_killed": len(self.kills),
            "killed": self.kills,
            "crm_outage_seconds": self.crm_outage_seconds,
            "poison_sent": len(self.poison),
        }


class Chaos:
    """Runs the faults on a thread; ``progress`` says what fraction of the tickets has finished."""

    def __init__(self, stack: EmulatedStack, *, tickets: int, seed: int, progress: Callable[[], float]) -> None:
        self.stack = stack
        self.stats = ChaosStats()
        self._rng = random.Random(seed)
        self._progress = progress
        kills = max(1, round(tickets / TICKETS_PER_KILL))
        self._kill_marks = sorted(self._rng.uniform(0.15, 0.7) for _ in range(kills))
        self._outage_mark: float | None = self._rng.uniform(0.2, 0.5)
        self._next_throttle = self._rng.randint(THROTTLE_EVERY_CALLS // 2, THROTTLE_EVERY_CALLS * 3 // 2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="supportflow-chaos", daemon=True)
        self._paused: Any = None
        self._paused_at = 0.0

    def send_poison(self, count: int, run_tag: str) -> None:
        """Put ``count`` unreadable messages on the workers' queues, round-robin."""
        queues = sorted({(w.function_logical_id, w.queue_url) for w in self.stack.workers.values()})
        for number in range(count):
            function, url = queues[number % len(queues)]
            poison_id = f"poison-{run_tag}-{number}"
            body = json.dumps({POISON_MARKER: poison_id, "note": "not an event; must end in a DLQ"})
            self.stack.clients.sqs.send_message(QueueUrl=url, MessageBody=body)
            self.stats.poison[poison_id] = function

    def start(self) -> None:
        """Start injecting."""
        self._thread.start()

    def stop(self) -> None:
        """Stop injecting and end any outage still going."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._resume_crm()

    def _loop(self) -> None:
        outage_until = 0.0
        while not self._stop.wait(0.1):
            self._throttle()
            done = self._progress()
            if self._kill_marks and done >= self._kill_marks[0]:
                self._kill_marks.pop(0)
                self._kill_one()
            if self._outage_mark is not None and done >= self._outage_mark:
                self._outage_mark = None
                if self._pause_crm():
                    outage_until = time.monotonic() + CRM_OUTAGE_SECONDS
            if outage_until and time.monotonic() >= outage_until:
                outage_until = 0.0
                self._resume_crm()

    def _throttle(self) -> None:
        bedrock = self.stack.bedrock
        if bedrock is None:
            return
        while bedrock.request_count() >= self._next_throttle:
            # The next call is throttled, as Bedrock answers under load.
            bedrock.faults.add({"fault": "throttle", "first": 1})
            self.stats.throttles += 1
            self._next_throttle += self._rng.randint(THROTTLE_EVERY_CALLS // 2, THROTTLE_EVERY_CALLS * 3 // 2)

    def _kill_one(self) -> None:
        workers = [w for w in self.stack.workers.values() if w.alive]
        if not workers:
            return
        # Prefer a worker holding a batch (messages in flight on its queue): killed mid-batch.
        busy = [w for w in workers if queue_depth(self.stack.clients.sqs, w.queue_url)[1] > 0]
        victim = self._rng.choice(sorted(busy or workers, key=lambda w: w.key))
        if victim.process is not None:
            victim.process.kill()
            self.stats.kills.append(victim.key)
            logger.warning("chaos: worker killed", extra={"worker": victim.key})

    def _pause_crm(self) -> bool:
        apis: dict[str, Any] = getattr(self.stack, "apis", {})
        crm = next((api for logical_id, api in apis.items() if "Crm" in logical_id), None)
        if crm is None or crm.process is None or not crm.alive:
            return False
        os.kill(crm.process.pid, signal.SIGSTOP)
        self._paused = crm
        self._paused_at = time.monotonic()
        logger.warning("chaos: CRM paused", extra={"api": crm.logical_id})
        return True

    def _resume_crm(self) -> None:
        if self._paused is not None and self._paused.process is not None:
            os.kill(self._paused.process.pid, signal.SIGCONT)
            self.stats.crm_outage_seconds = round(time.monotonic() - self._paused_at, 1)
            self._paused = None
