"""The embedded emulator's SQS patch: applied for the pinned moto, and SQS behaves as moto's own code does.

Every semantics test runs twice, with moto's code as shipped and with the patch, against the
in-process moto server through boto3.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from supportflow.local import moto_patches
from supportflow.local.clients import Clients
from supportflow.local.emulator import MotoEmulator

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import InputTransformerTypeDef
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

pytestmark = pytest.mark.integration

COUNTS: list[QueueAttributeNameType] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
]


@pytest.fixture(scope="module")
def clients() -> Iterator[Clients]:
    """Clients on the process's embedded moto server."""
    emulator = MotoEmulator.acquire()
    try:
        yield Clients(emulator.endpoint_url, "us-east-1")
    finally:
        MotoEmulator.release()


@pytest.fixture(scope="module")
def sqs(clients: Clients) -> SQSClient:
    """An SQS client on the process's embedded moto server."""
    return clients.sqs


@pytest.fixture(params=[False, True], ids=["moto-as-is", "patched"])
def patched(request: pytest.FixtureRequest, sqs: SQSClient) -> Iterator[bool]:
    """Run the test with the patch off, then on; leave it on, as the emulator boots it."""
    if request.param:
        moto_patches.apply()
    else:
        moto_patches.remove()
    try:
        yield bool(request.param)
    finally:
        moto_patches.apply()


def _queue(sqs: SQSClient, **attributes: str) -> str:
    fifo = attributes.get("FifoQueue") == "true"
    name = f"patch-{uuid.uuid4().hex[:8]}{'.fifo' if fifo else ''}"
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]


def _counts(sqs: SQSClient, url: str) -> list[int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"]
    return [int(attributes[name]) for name in COUNTS]


def test_the_patch_is_applied_for_the_pinned_moto(sqs: SQSClient) -> None:
    # Given the moto version the project locks
    # When the embedded emulator has booted (the fixture acquired it)
    # Then the version is one the patch was checked against, and the patch is in place
    assert moto_patches.applicable()
    assert moto_patches.is_applied()


def test_outside_the_checked_versions_the_patch_warns_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sqs: SQSClient
) -> None:
    from moto.sqs.models import SQSBackend  # noqa: PLC0415

    # Given moto's own code and a moto version outside the checked range
    moto_patches.remove()
    try:
        shipped = SQSBackend.__dict__["send_message"]
        monkeypatch.setattr(moto_patches, "moto_version", lambda: (6, 0, 0))
        # When the patch is asked for
        with caplog.at_level(logging.WARNING, logger="supportflow.local"):
            applied = moto_patches.apply()
        # Then it declines with a warning and moto is untouched
        assert applied is False
        assert not moto_patches.is_applied()
        assert SQSBackend.__dict__["send_message"] is shipped
        assert "unsupported moto version" in caplog.text
    finally:
        monkeypatch.undo()
        moto_patches.apply()


def test_counts_follow_sends_delays_receives_and_deletes(sqs: SQSClient, patched: bool) -> None:
    # Given a queue holding three ready messages and one delayed by 60 s
    url = _queue(sqs)
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert _counts(sqs, url) == [3, 1, 0]
    # When two are received (in flight) and one of them deleted
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=60)["Messages"]
    assert _counts(sqs, url) == [1, 1, 2]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
    # Then the counts say one ready, one delayed, one in flight, as GetQueueAttributes "All" does too
    assert _counts(sqs, url) == [1, 1, 1]
    everything = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert [int(everything[name]) for name in COUNTS] == [1, 1, 1]


def test_visibility_timeout_hides_and_a_zero_timeout_returns_with_the_receive_count(
    sqs: SQSClient, patched: bool
) -> None:
    # Given a message received with a 60 s visibility timeout
    url = _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60, AttributeNames=["All"])["Messages"][0]
    # When it is received again at once, then made visible and received again
    hidden = sqs.receive_message(QueueUrl=url).get("Messages", [])
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    # Then it was hidden, comes back as the same message received twice, and its first handle still deletes it
    assert hidden == []
    assert again["MessageId"] == first["MessageId"]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])  # deleting twice is no error
    assert _counts(sqs, url) == [0, 0, 0]


def test_an_unknown_receipt_handle_is_rejected(sqs: SQSClient, patched: bool) -> None:
    # Given a queue with one message
    url = _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    # When a receipt handle it never issued is deleted
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    # Then SQS says so and the message stays
    assert raised.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    assert _counts(sqs, url) == [1, 0, 0]


def test_a_message_received_max_receive_count_times_moves_to_the_dlq(sqs: SQSClient, patched: bool) -> None:
    # Given a queue redriving to a DLQ after 2 receives, with one message
    dlq = _queue(sqs)
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url = _queue(sqs, RedrivePolicy=policy)
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    # When it is received and not deleted twice, then received a third time
    for _ in range(2):
        assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])
    # Then the third receive finds nothing: the message is in the DLQ with its receive count
    assert third == []
    assert _counts(sqs, url) == [0, 0, 0]
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in moved] == ["poison"]
    assert moved[0]["Attributes"]["ApproximateReceiveCount"] == "3"


def test_fifo_keeps_group_order_blocks_a_group_in_flight_and_deduplicates(sqs: SQSClient, patched: bool) -> None:
    # Given a FIFO queue with two groups, and a duplicate send
    url = _queue(sqs, FifoQueue="true")
    for group, body in (("a", "a1"), ("b", "b1"), ("a", "a2"), ("a", "a3")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body)
    sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a", MessageDeduplicationId="a1")
    # When one message is received at a time, deleting only group b's
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"]
    second = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)["Messages"]
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60).get("Messages", [])
    # Then group a gives its first, group b its own, and nothing more while a1 is in flight
    assert [m["Body"] for m in first + second] == ["a1", "b1"]
    assert third == []
    # And once a1 is deleted, group a continues in order, without the duplicate
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]
    assert [m["Body"] for m in rest] == ["a2", "a3"]


def test_eventbridge_delivers_whole_and_transformed_events_to_sqs_targets(clients: Clients, patched: bool) -> None:
    # Given a bus whose rule sends matching events to one queue whole and to another through an InputTransformer
    sqs, events = clients.sqs, clients.events
    bus = events.create_event_bus(Name=f"patch-{uuid.uuid4().hex[:8]}")["EventBusArn"].rsplit("/", 1)[-1]
    whole, shaped = _queue(sqs), _queue(sqs)
    arns = [
        sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for u in (whole, shaped)
    ]
    events.put_rule(Name="tickets", EventBusName=bus, EventPattern=json.dumps({"source": ["patch.test"]}))
    transformer: InputTransformerTypeDef = {
        "InputPathsMap": {"ticket": "$.detail.ticket_id"},
        "InputTemplate": '{"ticket": "<ticket>"}',
    }
    events.put_targets(
        Rule="tickets",
        EventBusName=bus,
        Targets=[{"Id": "whole", "Arn": arns[0]}, {"Id": "shaped", "Arn": arns[1], "InputTransformer": transformer}],
    )
    # When an event is put on the bus
    detail = {"ticket_id": "T-1", "tags": ["a", "b"], "score": 0.5}
    events.put_events(
        Entries=[{"EventBusName": bus, "Source": "patch.test", "DetailType": "Tested", "Detail": json.dumps(detail)}]
    )
    # Then the first queue holds the whole event and the second the transformed one
    [delivered] = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=whole)["Messages"]]
    assert (delivered["source"], delivered["detail-type"], delivered["detail"]) == ("patch.test", "Tested", detail)
    assert delivered["id"] and delivered["time"]
    assert [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=shaped)["Messages"]] == [{"ticket": "T-1"}]
