"""The CRM update logic with the in-memory CRM: one case per ticket, redeliveries and version races merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.events import CrmRecordUpdated, TicketAnalyzed
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from workers.crm_update.fake import InMemoryCrm
from workers.crm_update.handler import lambda_handler
from workers.crm_update.logic import ANONYMOUS_CUSTOMER, CrmUpdateService
from workers.crm_update.port import CaseRecord, CrmRejected, CrmUnavailable
from workers.crm_update.wiring import CrmUpdateSettings, build_app
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.worker import sqs_worker_reading

SAMPLE = Path(__file__).resolve().parents[3] / "events" / "TicketAnalyzed.json"


def analyzed(**detail: Any) -> TicketAnalyzed:
    """The sample TicketAnalyzed with detail overrides."""
    loaded = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return TicketAnalyzed.from_detail({**loaded["detail"], **detail})


def test_a_first_analysis_creates_the_customer_and_the_case() -> None:
    # Given a CRM that does not know the customer
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    event = analyzed()
    # When the analysed ticket is merged
    updated = CrmUpdateService(crm, publisher).merge(event)
    # Then the customer and one case exist, and CrmRecordUpdated says which fields were set
    assert crm.customers == {"C-88": "premium"}
    (case,) = crm.cases.values()
    assert (case.ticket_id, case.intent, case.priority, case.status, case.version) == (
        "T-1001",
        "payment_issue",
        "high",
        "open",
        1,
    )
    assert publisher.published == [updated]
    assert updated.crm_record_id == case.case_id and updated.version == 1
    assert updated.about_event_id == event.event_id and updated.customer_id == "C-88"
    assert updated.fields_changed == [
        "category",
        "escalated",
        "intent",
        "priority",
        "sentiment",
        "status",
        "subject",
        "summary",
    ]


def test_the_same_event_merged_twice_leaves_one_case_unchanged() -> None:
    # Given a ticket already merged
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service, event = CrmUpdateService(crm, publisher), analyzed()
    first = service.merge(event)
    # When the same event is merged again (a redelivery after a crash)
    again = service.merge(event)
    # Then still one case at version 1, and the repeat announces the same event id with nothing changed
    (case,) = crm.cases.values()
    assert case.version == 1
    assert again.event_id == first.event_id and again.fields_changed == [] and again.version == 1


def test_a_later_escalation_updates_only_what_changed() -> None:
    # Given a merged ticket
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    service = CrmUpdateService(crm, publisher)
    service.merge(analyzed())
    # When the ticket is analysed again (resubmitted) and now needs escalation
    updated = service.merge(analyzed(event_id="second", needs_escalation=True))
    # Then the case moves to version 2 with the escalation fields only
    assert updated.version == 2 and updated.fields_changed == ["escalated", "status"]
    (case,) = crm.cases.values()
    assert case.escalated and case.status == "escalated"


class RacingCrm(InMemoryCrm):
    """Someone else edits the case between our read and our write, ``races`` times."""

    races: int = 1

    def update_case(self, case_id: str, version: int, changes: dict[str, Any], note: str) -> CaseRecord:
        """Let the rival bump the version first."""
        if self.races:
            self.races -= 1
            rival = self.cases[case_id]
            self.cases[case_id] = rival.model_copy(update={"version": rival.version + 1, "summary": "agent edit"})
        return super().update_case(case_id, version, changes, note)


def test_a_version_conflict_is_re_read_and_merged() -> None:
    # Given a case an agent edits while the worker merges an escalation
    crm, publisher = RacingCrm(), InMemoryPublisher()
    service = CrmUpdateService(crm, publisher)
    service.merge(analyzed(summary=""))
    # When the escalation is merged and loses the first race
    updated = service.merge(analyzed(event_id="second", summary="", needs_escalation=True))
    # Then it re-read the case and applied on top of the agent's edit
    (case,) = crm.cases.values()
    assert case.version == 3 and case.summary == "agent edit" and case.escalated
    assert updated.version == 3


def test_a_ticket_without_a_customer_goes_to_the_anonymous_customer() -> None:
    # Given a ticket whose upstream knew no customer
    crm = InMemoryCrm()
    # When it is merged
    updated = CrmUpdateService(crm, InMemoryPublisher()).merge(analyzed(customer_id=None))
    # Then its case belongs to the shared anonymous customer
    assert updated.customer_id == ANONYMOUS_CUSTOMER and ANONYMOUS_CUSTOMER in crm.customers


def test_failures_are_raised_and_nothing_is_announced() -> None:
    # Given a CRM that is down, and one that refuses the request
    for crm, error in (
        (InMemoryCrm(outage=5), CrmUnavailable),
        (InMemoryCrm(reject=CrmRejected(422, "validation_error")), CrmRejected),
    ):
        publisher = InMemoryPublisher()
        # When a ticket is merged, Then the record fails and no CrmRecordUpdated goes out
        with pytest.raises(error):
            CrmUpdateService(crm, publisher).merge(analyzed())
        assert publisher.published == []


def test_the_handler_merges_once_however_often_sqs_delivers() -> None:
    # Given the worker wired with the in-memory CRM
    crm, publisher = InMemoryCrm(), InMemoryPublisher()
    settings = CrmUpdateSettings(
        event_bus_name="bus", idempotency_table_name="idem", crm_base_url="http://crm", crm_api_key_secret="key"
    )
    handler = sqs_worker_reading(
        lambda_handler.reader,
        lambda: build_app(settings, crm=crm, publisher=publisher, persistence=InMemoryIdempotencyStore()),
    )
    body = SAMPLE.read_text(encoding="utf-8")
    record = {
        "messageId": "m-0",
        "receiptHandle": "rh-0",
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
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:crm-update",
        "awsRegion": "us-east-1",
    }
    # When the same record is delivered twice
    first = handler({"Records": [record]}, FakeLambdaContext())
    second = handler({"Records": [record]}, FakeLambdaContext())
    # Then both succeed, the CRM was written once, and one CrmRecordUpdated went out
    assert first["batchItemFailures"] == second["batchItemFailures"] == []
    assert len(crm.cases) == 1 and crm.calls == 3
    assert [type(e) for e in publisher.published] == [CrmRecordUpdated]
