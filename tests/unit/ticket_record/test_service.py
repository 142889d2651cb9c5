"""The service around the fold: lost version races retried, a crash after the mark never loses TicketAnalyzed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from schemas.envelope import Event
from schemas.events import TicketAnalyzed
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.ticket_record.samples import bus_event, ticket_flow
from workers.shared.publisher import InMemoryPublisher, PublishFailed
from workers.shared.runtime.worker import sqs_worker_reading
from workers.ticket_record.handler import lambda_handler
from workers.ticket_record.logic import RetryPolicy, TicketRecordService
from workers.ticket_record.record import TicketRecord
from workers.ticket_record.rules import EscalationRules
from workers.ticket_record.store import InMemoryTicketStore, VersionConflict, from_item, to_item
from workers.ticket_record.wiring import TicketRecordSettings, build_app

RULES = EscalationRules.load()


class FlakyPublisher(InMemoryPublisher):
    """Fails the first ``failures`` publishes, as a bus outage or a crash right after the mark would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def publish(self, events: Sequence[Event]) -> None:
        """Fail, then publish."""
        if self.failures:
            self.failures -= 1
            raise PublishFailed("bus unavailable")
        super().publish(events)


class RacingStore(InMemoryTicketStore):
    """Another worker writes the item between our read and our write, ``races`` times."""

    def __init__(self, races: int, rival: TicketRecordService | None = None) -> None:
        super().__init__()
        self.races = races
        self.rival_events = [bus_event("TicketClassified", minute=1)]
        self.rival = rival

    def put(self, record: TicketRecord, expected_version: int | None) -> None:
        """Let the rival win first."""
        if self.races and self.rival is not None and self.rival_events:
            self.races -= 1
            self.rival.process(self.rival_events.pop())
        super().put(record, expected_version)


def test_a_lost_version_race_is_retried_and_both_facts_are_kept() -> None:
    # Given a rival worker that folds the classification between our read and our write
    store = RacingStore(races=1)
    store.rival = TicketRecordService(store, InMemoryPublisher(), RULES)
    service = TicketRecordService(store, InMemoryPublisher(), RULES)
    # When we fold the accepted ticket
    outcome = service.process(bus_event("TicketAccepted"))
    # Then our write lost once, was retried on the new version, and the item holds both facts
    assert outcome.result == "applied"
    (record,) = store.items.values()
    assert record.ticket is not None and record.classification is not None and record.version == 2


def test_endless_races_fail_the_record_after_the_configured_attempts() -> None:
    class AlwaysLosing(InMemoryTicketStore):
        def put(self, record: TicketRecord, expected_version: int | None) -> None:
            raise VersionConflict(record.pk)

    service = TicketRecordService(AlwaysLosing(), InMemoryPublisher(), RULES, RetryPolicy(attempts=3))
    # Then the named error is raised, so SQS retries the message later
    with pytest.raises(VersionConflict):
        service.process(bus_event("TicketAccepted"))


def test_a_failed_publish_after_the_mark_is_published_on_redelivery() -> None:
    # Given the publish of TicketAnalyzed fails once, right after the item recorded it
    store, publisher = InMemoryTicketStore(), FlakyPublisher(failures=1)
    service = TicketRecordService(store, publisher, RULES)
    accepted, classified, sentiment = ticket_flow()[:3]
    service.process(accepted)
    service.process(classified)
    with pytest.raises(PublishFailed):
        service.process(sentiment)
    (record,) = store.items.values()
    assert record.analysis is not None and not record.analysis.published
    # When SQS redelivers the same event (already folded)
    outcome = service.process(sentiment)
    # Then the recorded TicketAnalyzed goes out, with its one id, and is marked published
    assert outcome.result == "duplicate" and outcome.analyzed is not None
    assert [e.event_id for e in publisher.published] == [record.analysis.event_id]
    (record,) = store.items.values()
    assert record.analysis is not None and record.analysis.published
    # And nothing more is published by later events
    service.process(sentiment)
    service.process(bus_event("ResponseDrafted", minute=3))
    assert len(publisher.published) == 1


def test_the_item_survives_the_dynamodb_encoding() -> None:
    # Given a full item, When written as a DynamoDB item and read back, Then it is the same record
    store = InMemoryTicketStore()
    service = TicketRecordService(store, InMemoryPublisher(), RULES)
    for event in [*ticket_flow(), bus_event("NotificationSent", minute=9)]:
        service.process(event)
    (record,) = store.items.values()
    item = to_item(record)
    assert item["pk"] == {"S": "acme#T-1001"} and item["status"] == {"S": "escalation_approved"}
    assert item["sentiment"]["M"]["score"] == {"N": "-0.55"}
    assert from_item(item) == record


def test_the_handler_folds_sqs_records_once_and_returns_partial_failures() -> None:
    # Given the worker wired with fakes
    store, publisher = InMemoryTicketStore(), InMemoryPublisher()
    settings = TicketRecordSettings(event_bus_name="bus", idempotency_table_name="idem", tickets_table_name="tickets")
    handler = sqs_worker_reading(
        lambda_handler.reader,
        lambda: build_app(settings, store=store, publisher=publisher, persistence=InMemoryIdempotencyStore()),
    )
    bodies = [event.model_dump_json(by_alias=True) for event in ticket_flow()[:3]] + ["not json"]
    records = [
        {
            "messageId": f"m-{index}",
            "receiptHandle": f"rh-{index}",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1700000000000",
                "SenderId": "x",
                "ApproximateFirstReceiveTimestamp": "1700000000000",
            },
            "messageAttributes": {},
            "md5OfBody": "x",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tickets",
            "awsRegion": "us-east-1",
        }
        for index, body in enumerate(bodies)
    ]
    # When one batch (three events and a poison message) is handled twice
    first = handler({"Records": records}, FakeLambdaContext())
    second = handler({"Records": records}, FakeLambdaContext())
    # Then only the poison message failed, and one TicketAnalyzed was published
    assert first["batchItemFailures"] == second["batchItemFailures"] == [{"itemIdentifier": "m-3"}]
    assert [type(e) for e in publisher.published] == [TicketAnalyzed]
    assert store.writes == 4
