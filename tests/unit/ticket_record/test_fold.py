"""The fold: any order and any duplication of a ticket's events converge to one item and one TicketAnalyzed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.bus import BusEvent
from schemas.events import TicketAnalyzed
from tests.unit.ticket_record.samples import bus_event, ticket_flow
from workers.shared.publisher import InMemoryPublisher
from workers.ticket_record.logic import TicketRecordService, analyzed_event_id
from workers.ticket_record.record import TicketRecord
from workers.ticket_record.rules import EscalationRules
from workers.ticket_record.store import InMemoryTicketStore

RULES = EscalationRules.load()


def run(events: list[BusEvent]) -> tuple[TicketRecord, list[TicketAnalyzed]]:
    """Deliver the events one by one; the final item and every TicketAnalyzed published."""
    store, publisher = InMemoryTicketStore(), InMemoryPublisher()
    service = TicketRecordService(store, publisher, RULES)
    for event in events:
        service.process(event)
    (record,) = store.items.values()
    analyzed = [event for event in publisher.published if isinstance(event, TicketAnalyzed)]
    return record, analyzed


def with_duplicates(events: list[BusEvent]) -> st.SearchStrategy[list[BusEvent]]:
    """Every event at least once, some again, in any order."""
    return st.lists(st.sampled_from(events), max_size=6).flatmap(lambda extra: st.permutations(events + extra))


IN_ORDER, IN_ORDER_ANALYZED = run(ticket_flow())


def test_in_order_the_item_holds_every_fact_and_one_analysis() -> None:
    # Given one submission's events in pipeline order, When they are folded
    record, analyzed = IN_ORDER, IN_ORDER_ANALYZED
    # Then the item is readable: status, customer, priority, every source's facts
    assert record.pk == "acme#T-1001" and record.status == "escalation_approved"
    assert record.customer is not None and record.customer.tier == "premium" and record.priority == "high"
    assert record.classification is not None and record.classification.intent == "payment_issue"
    assert record.sentiment is not None and record.sentiment.label == "negative"
    assert record.crm is not None and record.crm.crm_record_id == "CRM-T-1001"
    assert record.version == len(ticket_flow()) + 1  # one write per event, one for "published"
    # And exactly one TicketAnalyzed, with the ticket's derived id and the escalation decision
    (event,) = analyzed
    assert event.event_id == analyzed_event_id("acme", "T-1001")
    assert event.needs_escalation and "premium or enterprise customer unhappy" in event.escalation_reasons
    assert record.analysis is not None and record.analysis.published


@settings(max_examples=150, deadline=None)
@given(events=with_duplicates(ticket_flow()))
def test_any_order_and_any_duplication_converge(events: list[BusEvent]) -> None:
    # Given one ticket's events in any order, some delivered more than once
    # When they are folded
    record, analyzed = run(events)
    # Then the item is exactly the in-order item and one TicketAnalyzed was published, the same one
    assert record == IN_ORDER
    assert analyzed == IN_ORDER_ANALYZED


def resubmission() -> list[BusEvent]:
    """The same ticket id submitted twice under new event ids, each analysed."""
    first = ticket_flow()[:3]
    edited = [
        bus_event("TicketAccepted", minute=10, event_id="accepted-edit", subject="Charged twice, still no refund"),
        bus_event("TicketClassified", minute=11, event_id="classified-edit", intent="get_refund"),
        bus_event("SentimentAnalyzed", minute=12, event_id="sentiment-edit", label="very_negative", score=-0.9),
    ]
    return first + edited


@settings(max_examples=100, deadline=None)
@given(events=with_duplicates(resubmission()))
def test_a_resubmitted_ticket_updates_one_item_and_is_analysed_once(events: list[BusEvent]) -> None:
    # Given a ticket submitted again under a new event id, its events interleaved and redelivered
    # When they are folded
    record, analyzed = run(events)
    # Then one TicketAnalyzed only (no second CRM case, no second round of notifications)
    assert [event.event_id for event in analyzed] == [analyzed_event_id("acme", "T-1001")]
    # And the item holds the newest submission's facts whatever the order
    assert record.ticket is not None and record.ticket.event_id == "accepted-edit"
    assert record.classification is not None and record.classification.intent == "get_refund"
    assert record.sentiment is not None and record.sentiment.label == "very_negative"
    assert record.escalation is not None and "high priority with very negative sentiment" in record.escalation.reasons
    assert record.version == len(resubmission()) + 1


def test_a_notification_attaches_to_an_existing_ticket_and_is_ignored_otherwise() -> None:
    store, publisher = InMemoryTicketStore(), InMemoryPublisher()
    service = TicketRecordService(store, publisher, RULES)
    # Given no item yet, When a NotificationSent arrives, Then nothing is written
    assert service.process(bus_event("NotificationSent", minute=1)).result == "ignored"
    assert not store.items
    # Given the ticket's item, When the notification arrives (twice), Then it is recorded once
    service.process(bus_event("TicketAccepted"))
    service.process(bus_event("NotificationSent", minute=1))
    assert service.process(bus_event("NotificationSent", minute=1)).result == "duplicate"
    (record,) = store.items.values()
    assert list(record.notifications) == ["NotificationSent-1"] and record.version == 2


def test_feedback_sentiment_and_unknown_events_are_ignored() -> None:
    store = InMemoryTicketStore()
    service = TicketRecordService(store, InMemoryPublisher(), RULES)
    # Given sentiment about feedback and an event type the record does not fold
    feedback = bus_event("SentimentAnalyzed", subject_kind="feedback", subject_id="F-1")
    other = bus_event("FeedbackReceived")
    # When processed, Then nothing is written
    assert service.process(feedback).result == "ignored"
    assert service.process(other).result == "ignored"
    assert not store.items
