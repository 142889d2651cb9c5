"""``supportflow dlq list | show | redrive``: the stack's dead-letter queues, locally or on AWS.

The queues come from a running local stack (its endpoint and stage: every queue's name starts with
``supportflow-<stage>-``) or from a deployed CloudFormation stack's resources. A DLQ is a queue some
queue's RedrivePolicy points at (or named ``*-dlq`` / ``*DeadLetterQueue``); name one by its queue
name, the part after ``supportflow-<stage>-`` (``sentiment-dlq``), URL, ARN or, on AWS, logical id. Redrive uses SQS
StartMessageMoveTask; where the emulator lacks it, messages are received, sent to their source
queue and only then deleted, so an interruption can duplicate a message but never lose one (every
worker deduplicates on the event id).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# What an emulator answers for an SQS action it does not implement (moto: NotImplemented / 500).
_NOT_IMPLEMENTED_CODES = {"NotImplemented", "InvalidAction", "UnknownOperationException", "InternalFailure", "500"}
_PEEK_VISIBILITY_SECONDS = 5


class DlqError(RuntimeError):
    """A DLQ command cannot be done as asked (unknown queue, ambiguous source...)."""


@dataclass(frozen=True)
class Queue:
    """One SQS queue of the stack."""

    name: str
    url: str
    arn: str
    dead_letter_target: str | None = None  # the DLQ ARN of its RedrivePolicy
    logical_id: str | None = None  # known for a CloudFormation stack


@dataclass(frozen=True)
class DeadLetterQueue:
    """A DLQ and the queues that send to it."""

    queue: Queue
    sources: tuple[Queue, ...] = ()


@dataclass(frozen=True)
class DeadLetter:
    """One message in a DLQ, described without its body (which may hold PII)."""

    message_id: str
    receive_count: int
    sent_at: float | None
    detail_type: str | None
    ids: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    body: str = ""


def local_queues(sqs: SQSClient, stage: str) -> list[Queue]:
    """The queues of a running ``supportflow up --stage STAGE`` (by name prefix)."""
    urls = sqs.list_queues(QueueNamePrefix=f"supportflow-{stage}-", MaxResults=1000).get("QueueUrls", [])
    return [_describe(sqs, url) for url in urls]


def stack_queues(cloudformation: Any, sqs: SQSClient, stack_name: str) -> list[Queue]:
    """The queues of a deployed CloudFormation stack (its AWS::SQS::Queue resources)."""
    paginator = cloudformation.get_paginator("list_stack_resources")
    urls = {
        summary["PhysicalResourceId"]: summary["LogicalResourceId"]
        for page in paginator.paginate(StackName=stack_name)
        for summary in page["StackResourceSummaries"]
        if summary["ResourceType"] == "AWS::SQS::Queue" and summary.get("PhysicalResourceId")
    }
    return [_describe(sqs, url, logical_id) for url, logical_id in urls.items()]


def _describe(sqs: SQSClient, url: str, logical_id: str | None = None) -> Queue:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy"])["Attributes"]
    policy = attributes.get("RedrivePolicy")
    return Queue(
        name=url.rstrip("/").rsplit("/", 1)[-1],
        url=url,
        arn=attributes["QueueArn"],
        dead_letter_target=json.loads(policy)["deadLetterTargetArn"] if policy else None,
        logical_id=logical_id,
    )


def dead_letter_queues(queues: Iterable[Queue]) -> list[DeadLetterQueue]:
    """Every DLQ among ``queues``, with its sources, by name."""
    queues = list(queues)
    targets = {q.dead_letter_target for q in queues if q.dead_letter_target}
    return [
        DeadLetterQueue(q, tuple(s for s in queues if s.dead_letter_target == q.arn))
        for q in sorted(queues, key=lambda q: q.name)
        if q.arn in targets or q.name.endswith(("DeadLetterQueue", "-dlq"))
    ]


def find(dlqs: Iterable[DeadLetterQueue], wanted: str) -> DeadLetterQueue:
    """The DLQ named by its queue name (or the part after the stack's prefix), URL, ARN or logical id."""
    dlqs = list(dlqs)
    for dlq in dlqs:
        if matches(dlq.queue, wanted):
            return dlq
    names = ", ".join(d.queue.name for d in dlqs) or "none"
    msg = f"no dead-letter queue {wanted!r} (DLQs: {names})"
    raise DlqError(msg)


def matches(queue: Queue, wanted: str) -> bool:
    """Whether ``wanted`` names this queue."""
    return wanted in (queue.name, queue.url, queue.arn, queue.logical_id) or queue.name.endswith(f"-{wanted}")


def depth(sqs: SQSClient, queue: Queue) -> int:
    """Messages in the queue (visible and in flight)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def peek(sqs: SQSClient, queue: Queue, reasons: Mapping[str, str] | None = None) -> list[DeadLetter]:
    """Every visible message, described; each is made visible again at once."""
    held: list[tuple[dict[str, Any], str]] = []
    while True:
        batch = _receive(sqs, queue)
        if not batch:
            break
        held.extend((m, m["ReceiptHandle"]) for m in batch)
    for _message, receipt in held:
        sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return [_dead_letter(message, reasons or {}) for message, _receipt in held]


def oldest_age_seconds(letters: Iterable[DeadLetter], now: float | None = None) -> float | None:
    """Age of the oldest message (from its SentTimestamp)."""
    sent = [letter.sent_at for letter in letters if letter.sent_at is not None]
    return (now or time.time()) - min(sent) if sent else None


def failure_reasons(log_dir: Path | None) -> dict[str, str]:
    """Message id -> the last failure the consumers logged for it (JSON lines in ``log_dir``)."""
    found: dict[str, str] = {}
    if log_dir is None or not log_dir.is_dir():
        return found
    for path in sorted(log_dir.glob("*.log")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"message_id"' not in line or '"error_type"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            reason = str(record["error_type"])
            if record.get("invalid_fields"):
                reason += f" (fields: {', '.join(map(str, record['invalid_fields']))})"
            if record.get("detail_type"):
                reason += f" (detail-type {record['detail_type']})"
            found[str(record["message_id"])] = reason
    return found


@dataclass
class RedriveResult:
    """What a redrive did (or would do, dry run)."""

    method: str  # "StartMessageMoveTask" / "receive-send-delete" / "dry-run"
    moved: int = 0
    task_handle: str | None = None
    destinations: dict[str, int] = field(default_factory=dict)


def redrive(
    sqs: SQSClient, dlq: DeadLetterQueue, *, destination: Queue | None = None, dry_run: bool = False
) -> RedriveResult:
    """Move every message of ``dlq`` back to its source queue (or ``destination``)."""
    target = destination or _single_source(dlq)
    if dry_run:
        count = depth(sqs, dlq.queue)
        return RedriveResult("dry-run", moved=count, destinations={target.name: count})
    try:
        kwargs: dict[str, Any] = {"SourceArn": dlq.queue.arn}
        if destination is not None:
            kwargs["DestinationArn"] = destination.arn
        task = sqs.start_message_move_task(**kwargs)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code not in _NOT_IMPLEMENTED_CODES and status not in {500, 501}:
            raise
        return _move_by_hand(sqs, dlq.queue, target)
    return RedriveResult("StartMessageMoveTask", task_handle=task.get("TaskHandle"))


def _single_source(dlq: DeadLetterQueue) -> Queue:
    if len(dlq.sources) != 1:
        names = ", ".join(s.name for s in dlq.sources) or "none"
        msg = f"{dlq.queue.name} has {len(dlq.sources)} source queues ({names}); say where with --to"
        raise DlqError(msg)
    return dlq.sources[0]


def _move_by_hand(sqs: SQSClient, source: Queue, destination: Queue) -> RedriveResult:
    result = RedriveResult("receive-send-delete")
    for message in _drain(sqs, source):
        # Send first, delete after: interrupted in between, the message is in both queues, never in none.
        send: dict[str, Any] = {"QueueUrl": destination.url, "MessageBody": message["Body"]}
        if message.get("MessageAttributes"):
            send["MessageAttributes"] = message["MessageAttributes"]
        sqs.send_message(**send)
        sqs.delete_message(QueueUrl=source.url, ReceiptHandle=message["ReceiptHandle"])
        result.moved += 1
    result.destinations = {destination.name: result.moved}
    return result


def _drain(sqs: SQSClient, queue: Queue) -> Iterator[dict[str, Any]]:
    while batch := _receive(sqs, queue):
        yield from batch


def _receive(sqs: SQSClient, queue: Queue) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=0,
        VisibilityTimeout=_PEEK_VISIBILITY_SECONDS,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return [dict(m) for m in response.get("Messages") or []]


def _dead_letter(message: Mapping[str, Any], reasons: Mapping[str, str]) -> DeadLetter:
    attributes = message.get("Attributes") or {}
    body = str(message.get("Body", ""))
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    detail_type, ids = None, {}
    if isinstance(parsed, dict):
        detail_type = parsed.get("detail-type")
        carried = parsed.get("detail")
        detail: dict[str, Any] = carried if isinstance(carried, dict) else {}
        for name in ("event_id", "correlation_id", "ticket_id", "subject_id", "about_event_id"):
            if detail.get(name):
                ids[name] = str(detail[name])
    sent = attributes.get("SentTimestamp")
    return DeadLetter(
        message_id=str(message["MessageId"]),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
        sent_at=int(sent) / 1000 if sent else None,
        detail_type=str(detail_type) if detail_type else None,
        ids=ids,
        reason=reasons.get(str(message["MessageId"])),
        body=body,
    )


def list_text(sqs: SQSClient, dlqs: Iterable[DeadLetterQueue]) -> str:
    """``dlq list``: each DLQ with its depth, oldest message age and source queues."""
    lines = [f"{'queue':<60} {'depth':>5} {'oldest':>8}  sources"]
    for entry in dlqs:
        letters = peek(sqs, entry.queue)
        age = oldest_age_seconds(letters)
        shown = f"{age:.0f} s" if age is not None else "-"
        sources = ", ".join(s.name for s in entry.sources) or "-"
        lines.append(f"{entry.queue.name:<60} {len(letters):>5} {shown:>8}  {sources}")
    return "\n".join(lines)


def show_text(letters: Iterable[DeadLetter], *, body: bool = False) -> str:
    """``dlq show``: each message's id, receives, detail-type and ids, failure reason (body only if asked)."""
    lines = []
    for letter in letters:
        ids = " ".join(f"{k}={v}" for k, v in letter.ids.items())
        # The receive count includes this look at the message.
        lines.append(
            f"{letter.message_id}  receives {max(letter.receive_count - 1, 0)}  "
            f"{letter.detail_type or '(not an event)'}  {ids}".rstrip()
        )
        lines.append(f"    reason: {letter.reason or 'unknown (pass --logs DIR with the worker logs)'}")
        if body:
            lines.append(f"    body: {letter.body}")
    return "\n".join(lines) or "empty"
