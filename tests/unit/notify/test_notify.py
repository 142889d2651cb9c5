"""The notifications worker with fakes: routing from the data file, attributes, once per event and audience."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.bus import BusEvent
from schemas.errors import MisroutedEvent
from schemas.events import Audience, NotificationSent
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from workers.notify.handler import lambda_handler
from workers.notify.logic import NotifyService, notification_event_id
from workers.notify.routes import DEFAULT_ROUTES_FILE, RoutingTable
from workers.notify.topics import InMemoryNotifier
from workers.notify.wiring import NotifySettings, build_app
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.worker import sqs_worker_reading

EVENTS = Path(__file__).resolve().parents[3] / "events"
TOPICS: dict[Audience, str] = {"agents": "arn:topic:agents", "customers": "arn:topic:customers", "ops": "arn:topic:ops"}
SETTINGS = NotifySettings(
    event_bus_name="bus",
    idempotency_table_name="idem",
    agents_topic_arn=TOPICS["agents"],
    customers_topic_arn=TOPICS["customers"],
    ops_topic_arn=TOPICS["ops"],
)


def bus_event(sample: str, **detail: Any) -> BusEvent:
    """The sample in events/ as the bus delivers it, with detail overrides."""
    loaded = json.loads((EVENTS / f"{sample}.json").read_text(encoding="utf-8"))
    loaded["detail"].update(detail)
    return BusEvent.model_validate(loaded)


def service() -> tuple[NotifyService, InMemoryNotifier, InMemoryPublisher]:
    """The service on the shipped routing file, with fake notifier and bus."""
    notifier, publisher = InMemoryNotifier(), InMemoryPublisher()
    return NotifyService(notifier, publisher, RoutingTable.load(DEFAULT_ROUTES_FILE), TOPICS), notifier, publisher


def test_an_escalated_high_priority_ticket_notifies_agents_once_with_filterable_attributes() -> None:
    # Given an analysed ticket that is both high priority and escalated (two agent routes match)
    notify, notifier, publisher = service()
    event = bus_event("TicketAnalyzed", needs_escalation=True, escalation_reasons=["legal threat"])
    # When it is processed
    sent = notify.process(event)
    # Then the agents topic gets one message, filterable by priority, tenant and event type
    (notification,) = notifier.sent
    assert notification.topic_arn == TOPICS["agents"]
    assert notification.attributes == {
        "event_type": "TicketAnalyzed",
        "event_id": event.detail["event_id"],
        "tenant": "acme",
        "audience": "agents",
        "priority": "high",
    }
    assert notification.subject == "Ticket needs escalation"
    assert notification.message["escalation_reasons"] == ["legal threat"]
    # And a NotificationSent about the event is on the bus, with a stable id per audience
    (announced,) = publisher.published
    assert announced == sent[0]
    assert isinstance(announced, NotificationSent)
    assert announced.about_event_id == event.detail["event_id"]
    assert announced.event_id == notification_event_id(event.detail["event_id"], "agents")
    assert announced.topic_arn == TOPICS["agents"]


def test_the_message_carries_only_the_routes_fields_never_the_customer() -> None:
    # Given an escalated ticket of a known customer
    notify, notifier, _ = service()
    # When it is processed
    notify.process(bus_event("TicketAnalyzed", needs_escalation=True))
    # Then the agents see ticket id, summary, priority and reasons, and no customer id
    message = notifier.sent[0].message
    assert {"ticket_id", "summary", "priority", "escalation_reasons"} <= set(message)
    assert "customer_id" not in message and "C-88" not in json.dumps(message)
    assert "body" not in message and "Charged twice" not in json.dumps(message)


def test_a_normal_calm_ticket_and_a_crm_update_notify_nobody() -> None:
    # Given a normal-priority ticket without escalation, and a CRM update
    notify, notifier, publisher = service()
    # When both are processed
    notify.process(bus_event("TicketAnalyzed", priority="normal", needs_escalation=False))
    with pytest.raises(MisroutedEvent):
        notify.process(bus_event("CrmRecordUpdated"))
    # Then nothing was sent or announced
    assert notifier.sent == [] and publisher.published == []


def test_a_rejected_ticket_is_not_this_workers_to_announce() -> None:
    # Given a ticket rejected at intake (ops hear it through TicketRejectedRule → OpsTopic on the bus)
    notify, notifier, _ = service()
    # When it reaches the notifications worker by mistake, Then it is refused as misrouted, never sent twice
    with pytest.raises(MisroutedEvent):
        notify.process(bus_event("TicketRejected"))
    assert notifier.sent == []


@pytest.mark.parametrize(
    ("grounded", "for_escalation", "audiences"),
    [(True, False, ["customers"]), (False, False, ["agents"]), (True, True, []), (False, True, [])],
)
def test_a_draft_reaches_the_customer_only_when_grounded_and_not_awaiting_approval(
    grounded: bool, for_escalation: bool, audiences: list[str]
) -> None:
    # Given a drafted reply, grounded or not, drafted for direct sending or for a human's approval
    notify, notifier, _ = service()
    event = bus_event("ResponseDrafted", grounded=grounded, for_escalation=for_escalation)
    # When it is processed
    notify.process(event)
    # Then a grounded direct draft goes to the customer, an ungrounded one to the agents, an escalation's to nobody
    by_topic = {arn: audience for audience, arn in TOPICS.items()}
    assert [by_topic[n.topic_arn] for n in notifier.sent] == audiences


def test_a_routing_file_naming_an_unknown_field_fails_at_load(tmp_path: Path) -> None:
    # Given a route that would show a field the event does not have
    routes = tmp_path / "routes.json"
    routes.write_text(
        json.dumps(
            {
                "routes": [
                    {
                        "name": "leak",
                        "detail_type": "TicketAnalyzed",
                        "audience": "agents",
                        "subject": "x",
                        "fields": ["no_such_field"],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    # When it is loaded, Then it is refused, naming the field
    with pytest.raises(ValueError, match="no_such_field"):
        RoutingTable.load(str(routes))


def sqs_records(*bodies: str) -> dict[str, Any]:
    """An SQS event with one record per body."""
    return {
        "Records": [
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
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notify",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def test_the_handler_sends_once_per_event_however_often_it_is_delivered() -> None:
    # Given the worker wired with fakes
    notifier, publisher = InMemoryNotifier(), InMemoryPublisher()
    handler = sqs_worker_reading(
        lambda_handler.reader,
        lambda: build_app(SETTINGS, notifier=notifier, publisher=publisher, persistence=InMemoryIdempotencyStore()),
    )
    escalated = bus_event("TicketAnalyzed", needs_escalation=True).model_dump_json(by_alias=True)
    # When a batch with the escalated ticket and a poison message is delivered twice
    first = handler(sqs_records(escalated, "not json"), FakeLambdaContext())
    second = handler(sqs_records(escalated, "not json"), FakeLambdaContext())
    # Then only the poison failed, and one notification and one NotificationSent went out
    assert first["batchItemFailures"] == second["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert len(notifier.sent) == 1
    assert [type(e) for e in publisher.published] == [NotificationSent]
