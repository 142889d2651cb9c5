"""``supportflow run``: replay the sample tickets through the local stack and report what became of each.

The report is built from stages (:data:`STAGES`): each watches the events and queues of one part of
the pipeline and adds its columns. Later pipeline stages (classification, CRM, drafting...) add a
:class:`Stage` here and the report, the waiting and the exit code follow.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from supportflow.local.observe import ReceivedMessage, load_event, put_bus_event, take_messages
from supportflow.local.stack import PROJECT_ROOT, EmulatedStack

logger = logging.getLogger("supportflow.local.replay")

EVENTS_DIR = PROJECT_ROOT / "events"
POLL_INTERVAL_SECONDS = 0.5


@dataclass
class TicketRun:
    """One replayed ticket and everything observed about it."""

    path: Path
    correlation_id: str
    ticket_id: str
    expected: str
    event_id: str = ""
    put_at: float = 0.0
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen_at: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    finished_at: float | None = None

    @property
    def outcome(self) -> str:
        """accepted / rejected / dead-lettered / missing."""
        if "TicketAccepted" in self.events:
            return "accepted"
        if "TicketRejected" in self.events:
            return "rejected"
        if self.facts.get("dead_lettered"):
            return "dead-lettered"
        return "missing"


class Observer:
    """Taps the bus (an extra rule into an SQS queue), SNS topics and DLQs for the replayed tickets."""

    def __init__(self, stack: EmulatedStack) -> None:
        self.stack = stack
        sqs = stack.clients.sqs
        self.tap_url = sqs.create_queue(QueueName=f"{stack.stack_name}-observer-tap")["QueueUrl"]
        tap_arn = _queue_arn(stack, self.tap_url)
        bus = stack.physical_id("EventBus")
        rule = f"{stack.stack_name}-observer-tap"
        # Every event on the bus; not part of the template, created only for the report.
        stack.clients.events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"version": ["0"]}))
        stack.clients.events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])
        self.notifications_url = sqs.create_queue(QueueName=f"{stack.stack_name}-observer-sns")["QueueUrl"]
        notifications_arn = _queue_arn(stack, self.notifications_url)
        self.topics = {
            info.logical_id: str(info.physical_id)
            for info in stack.resources.values()
            if info.type == "AWS::SNS::Topic"
        }
        for topic_arn in self.topics.values():
            stack.clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=notifications_arn)
        self.dead_letter_queues = _dead_letter_queues(stack)

    def bus_events(self) -> Iterator[dict[str, Any]]:
        """Events that crossed the bus since the last call."""
        for message in _drain(self.stack, self.tap_url):
            if isinstance(message.json, dict):
                yield message.json

    def notifications(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(topic logical id, message) for SNS notifications since the last call."""
        by_arn = {arn: logical_id for logical_id, arn in self.topics.items()}
        for message in _drain(self.stack, self.notifications_url):
            envelope = message.json or {}
            try:
                payload = json.loads(envelope.get("Message", ""))
            except ValueError:
                payload = {"raw": envelope.get("Message")}
            yield by_arn.get(envelope.get("TopicArn", ""), "?"), payload

    def dead_letters(self, predicate: Callable[[ReceivedMessage], bool]) -> Iterator[tuple[str, ReceivedMessage]]:
        """(DLQ logical id, message) for dead-lettered messages matching ``predicate``."""
        for logical_id, url in self.dead_letter_queues.items():
            for message in take_messages(self.stack.clients.sqs, url, predicate, expected=100, timeout=0):
                yield logical_id, message


class Stage(Protocol):
    """One part of the pipeline as the report sees it."""

    name: str

    def observe_event(self, run: TicketRun, event: dict[str, Any]) -> None:
        """A bus event of this ticket."""

    def poll(self, stack: EmulatedStack, runs: Iterable[TicketRun]) -> None:
        """Look at queues or stores for the unfinished runs."""

    def done(self, run: TicketRun) -> bool:
        """Whether this stage has nothing more to wait for on ``run``."""

    def columns(self, run: TicketRun) -> dict[str, str]:
        """Report columns this stage contributes."""

    def problems(self, run: TicketRun) -> list[str]:
        """What did not happen as expected (makes the exit code non-zero)."""


class IntakeStage:
    """TicketSubmitted → TicketAccepted on its priority queue, or TicketRejected to the ops topic."""

    name = "intake"

    def __init__(self, stack: EmulatedStack) -> None:
        consumed = {worker.queue_url for worker in stack.workers.values()}
        # A priority queue a worker drains cannot be inspected; only the bus event is checked then.
        self.priority_queues = {
            priority: stack.physical_id(logical_id)
            for priority, logical_id in (
                ("high", "HighPriorityQueue"),
                ("normal", "NormalPriorityQueue"),
                ("low", "LowPriorityQueue"),
            )
            if logical_id in stack.resources and stack.physical_id(logical_id) not in consumed
        }
        self.queue_names = {url: url.rsplit("/", 1)[-1] for url in self.priority_queues.values()}

    def observe_event(self, run: TicketRun, event: dict[str, Any]) -> None:
        """Nothing beyond what the runner records."""

    def poll(self, stack: EmulatedStack, runs: Iterable[TicketRun]) -> None:
        """Find each accepted ticket's event on its priority queue."""
        waiting = {
            r.events["TicketAccepted"].get("event_id"): r
            for r in runs
            if "TicketAccepted" in r.events and "queue" not in r.facts
        }
        if not waiting:
            return
        for url in self.priority_queues.values():

            def mine(message: ReceivedMessage) -> bool:
                body = message.json
                return isinstance(body, dict) and body.get("detail", {}).get("event_id") in waiting

            for message in take_messages(stack.clients.sqs, url, mine, expected=100, timeout=0):
                run = waiting[message.json["detail"]["event_id"]]
                run.facts["queue"] = self.queue_names[url]

    def done(self, run: TicketRun) -> bool:
        """Accepted and queued (when the queue is observable), rejected and notified, or dead-lettered."""
        if run.outcome == "accepted":
            priority = run.events["TicketAccepted"].get("priority")
            return "queue" in run.facts or priority not in self.priority_queues
        if run.outcome == "rejected":
            return bool(run.facts.get("notified"))
        return run.outcome == "dead-lettered"

    def columns(self, run: TicketRun) -> dict[str, str]:
        """Outcome, priority, queue, language and redactions."""
        accepted = run.events.get("TicketAccepted", {})
        rejected = run.events.get("TicketRejected", {})
        redactions = accepted.get("redactions") or {}
        return {
            "outcome": run.outcome,
            "priority": str(accepted.get("priority", "-")),
            "queue": str(run.facts.get("queue", "-")),
            "lang": str(accepted.get("language", "-")),
            "redactions": ",".join(f"{k}:{v}" for k, v in sorted(redactions.items())) or "-",
            "notified": "ops" if run.facts.get("notified") else "-",
            "reason": str(rejected.get("reason", "")),
        }

    def problems(self, run: TicketRun) -> list[str]:
        """Outcome differs from the expectation, or the follow-through did not happen."""
        found = []
        if run.outcome != run.expected:
            found.append(f"expected {run.expected}, got {run.outcome}")
        elif not self.done(run):
            found.append(
                "accepted but not on its priority queue"
                if run.outcome == "accepted"
                else "rejected but the ops topic got no notification"
            )
        if run.outcome == "accepted":
            expected_queue = self.priority_queues.get(run.events["TicketAccepted"].get("priority", ""))
            if expected_queue and run.facts.get("queue") not in (None, self.queue_names[expected_queue]):
                found.append(f"on {run.facts['queue']}, expected {self.queue_names[expected_queue]}")
        return found


StageFactory = Callable[[EmulatedStack], Stage]
# The report's stages, in pipeline order; later issues append theirs.
STAGES: list[StageFactory] = [IntakeStage]


@dataclass
class Report:
    """What ``supportflow run`` prints."""

    runs: list[TicketRun]
    stages: list[Stage]
    boot_seconds: float
    replay_seconds: float

    def problems(self) -> dict[str, list[str]]:
        """Ticket id → what went wrong."""
        found: dict[str, list[str]] = {}
        for run in self.runs:
            issues = [issue for stage in self.stages for issue in stage.problems(run)]
            if issues:
                found[run.ticket_id] = issues
        return found

    def rows(self) -> list[dict[str, str]]:
        """One row per ticket."""
        rows = []
        for run in self.runs:
            row = {"ticket": run.ticket_id}
            for stage in self.stages:
                row.update(stage.columns(run))
            latency = (run.finished_at - run.put_at) if run.finished_at else None
            row["seconds"] = f"{latency:.2f}" if latency is not None else "-"
            rows.append(row)
        return rows

    def totals(self) -> dict[str, int]:
        """Tickets per outcome."""
        totals: dict[str, int] = {}
        for run in self.runs:
            totals[run.outcome] = totals.get(run.outcome, 0) + 1
        return totals


def sample_tickets(events_dir: Path = EVENTS_DIR) -> list[Path]:
    """The TicketSubmitted samples: ``events/TicketSubmitted.json`` and ``events/tickets/*.json``."""
    paths = [events_dir / "TicketSubmitted.json", *sorted((events_dir / "tickets").glob("*.json"))]
    return [p for p in paths if p.exists() and load_event(p).get("detail-type") == "TicketSubmitted"]


@dataclass
class _Session:
    """One replay's state: what is watched and the runs indexed by correlation and event id."""

    stack: EmulatedStack
    observer: Observer
    stages: list[Stage]
    runs: list[TicketRun]
    by_correlation: dict[str, TicketRun] = field(default_factory=dict)
    by_event_id: dict[str, TicketRun] = field(default_factory=dict)

    def observe(self) -> None:
        """Pull everything observable since the last call into the runs."""
        now = time.monotonic()
        for event in self.observer.bus_events():
            detail = event.get("detail") or {}
            run = self.by_correlation.get(str(detail.get("correlation_id")))
            if run is None or event.get("id") == run.event_id:
                continue
            run.events.setdefault(str(event.get("detail-type")), detail)
            run.seen_at.setdefault(str(event.get("detail-type")), now)
            for stage in self.stages:
                stage.observe_event(run, event)
        for _topic, payload in self.observer.notifications():
            run = self.by_correlation.get(str((payload.get("detail") or {}).get("correlation_id")))
            if run is not None:
                run.facts["notified"] = True

        def submitted_here(message: ReceivedMessage) -> bool:
            return isinstance(message.json, dict) and message.json.get("id") in self.by_event_id

        for _dlq, message in self.observer.dead_letters(submitted_here):
            self.by_event_id[message.json["id"]].facts["dead_lettered"] = True
        unfinished = [run for run in self.runs if run.finished_at is None]
        for stage in self.stages:
            stage.poll(self.stack, unfinished)


def replay(
    stack: EmulatedStack,
    samples: list[Path],
    *,
    timeout: float = 60.0,
    progress: Callable[[TicketRun], None] | None = None,
) -> Report:
    """Put every sample on the bus, wait until every stage is done with each (or timeout), report."""
    runs = [_new_run(path) for path in samples]
    session = _Session(stack, Observer(stack), [factory(stack) for factory in STAGES], runs)
    session.by_correlation = {run.correlation_id: run for run in runs}
    started = time.monotonic()
    bus = stack.physical_id("EventBus")
    for run in runs:
        run.event_id = put_bus_event(stack.clients.events, bus, load_event(run.path))
        run.put_at = time.monotonic()
    session.by_event_id = {run.event_id: run for run in runs}
    deadline = started + timeout
    while time.monotonic() < deadline and any(run.finished_at is None for run in runs):
        session.observe()
        for run in runs:
            if run.finished_at is None and all(stage.done(run) for stage in session.stages):
                run.finished_at = time.monotonic()
                if progress is not None:
                    progress(run)
        time.sleep(POLL_INTERVAL_SECONDS)
    return Report(
        runs=runs, stages=session.stages, boot_seconds=stack.boot_seconds, replay_seconds=time.monotonic() - started
    )


def _new_run(path: Path) -> TicketRun:
    detail = load_event(path).get("detail") or {}
    ticket_id = str(detail.get("ticket_id") or path.stem)
    return TicketRun(
        path=path,
        correlation_id=str(detail.get("correlation_id") or ticket_id),
        ticket_id=ticket_id,
        # Samples named *invalid* are meant to be rejected; every other one accepted.
        expected="rejected" if "invalid" in path.stem else "accepted",
    )


def _queue_arn(stack: EmulatedStack, url: str) -> str:
    return stack.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _drain(stack: EmulatedStack, url: str) -> Iterator[ReceivedMessage]:
    yield from take_messages(stack.clients.sqs, url, lambda _m: True, expected=1000, timeout=0)


def _dead_letter_queues(stack: EmulatedStack) -> dict[str, str]:
    arns = {
        info.attributes.get("Arn"): info.logical_id
        for info in stack.resources.values()
        if info.type == "AWS::SQS::Queue"
    }
    found = {}
    for info in stack.resources.values():
        if info.type != "AWS::SQS::Queue" or info.physical_id is None:
            continue
        attributes = stack.clients.sqs.get_queue_attributes(
            QueueUrl=info.physical_id, AttributeNames=["RedrivePolicy"]
        ).get("Attributes", {})
        if "RedrivePolicy" in attributes:
            target = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
            if target in arns:
                found[arns[target]] = stack.physical_id(arns[target])
    return found
