"""Intake on the embedded stack: tickets put on the bus come out accepted on their priority queue.

Everything asserted here is what the emulator holds after real calls: the bus routes with the
template's rules, the intake worker runs as its own process with the template's environment, and
SQS redrives with the template's redrive policy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from schemas import TicketAccepted, TicketRejected
from supportflow.local import EmulatedStack
from supportflow.local.observe import in_flow, load_event, put_bus_event, take_messages
from tests.constants import EVENTS_DIR

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

pytestmark = pytest.mark.integration

EVENTS = EVENTS_DIR
QUEUE_BY_PRIORITY = {"high": "HighPriorityQueue", "normal": "NormalPriorityQueue", "low": "LowPriorityQueue"}
PII = ("dana.fox@example.com", "4111 1111 1111 1111", "555 0132", "5500 0000 0000 0004", "7946 0958", "@example.org")


@pytest.fixture(scope="module", autouse=True)
def priority_queues_held(local_stack: EmulatedStack) -> Iterator[None]:
    """The workers that drain the priority queues paused, so these tests can read what intake routed there."""
    with local_stack.paused(*QUEUE_BY_PRIORITY.values()):
        yield


def submit(stack: EmulatedStack, sample_name: str, **detail: Any) -> str:
    """Put a sample TicketSubmitted on the bus with fresh ids; return its correlation id."""
    correlation_id = f"T-{uuid.uuid4().hex[:10]}"
    overrides = {"event_id": str(uuid.uuid4()), "correlation_id": correlation_id, "ticket_id": correlation_id}
    sample = load_event(EVENTS / sample_name)
    put_bus_event(stack.clients.events, stack.physical_id("EventBus"), sample, {**overrides, **detail})
    return correlation_id


def accepted_on(stack: EmulatedStack, priority: str, correlation_id: str) -> TicketAccepted:
    """The TicketAccepted for this ticket, taken off the queue of ``priority``."""
    queue_url = stack.physical_id(QUEUE_BY_PRIORITY[priority])
    (message,) = take_messages(stack.clients.sqs, queue_url, in_flow(correlation_id), timeout=30)
    body = message.json
    assert body["detail-type"] == "TicketAccepted" and body["source"] == "supportflow.intake"
    return TicketAccepted.model_validate(body["detail"])


def nowhere_else(stack: EmulatedStack, priority: str, correlation_id: str) -> None:
    for other, logical_id in QUEUE_BY_PRIORITY.items():
        if other != priority:
            found = take_messages(stack.clients.sqs, stack.physical_id(logical_id), in_flow(correlation_id), timeout=0)
            assert not found, f"{correlation_id} also reached the {other} queue"


@pytest.mark.parametrize("priority", ["high", "normal", "low"])
def test_upstream_priority_routes_to_its_queue(local_stack: EmulatedStack, priority: str) -> None:
    # Given a sample ticket with an upstream priority, When it is submitted on the bus
    correlation_id = submit(local_stack, "TicketSubmitted.json", priority=priority)
    # Then intake accepts it and the bus routes it to that priority's queue, and only there
    accepted = accepted_on(local_stack, priority, correlation_id)
    assert (accepted.priority, accepted.priority_source) == (priority, "upstream")
    nowhere_else(local_stack, priority, correlation_id)


@pytest.mark.parametrize(
    ("sample", "derived"),
    [("tickets/T-2003.json", "high"), ("tickets/T-2001.json", "normal"), ("tickets/T-2007.json", "low")],
)
def test_ticket_without_priority_gets_a_derived_one(local_stack: EmulatedStack, sample: str, derived: str) -> None:
    # Given a ticket whose upstream set no priority
    assert "priority" not in load_event(EVENTS / sample)["detail"]
    # When it is submitted
    correlation_id = submit(local_stack, sample)
    # Then intake derives the priority from the content, says why, and it is routed by it
    accepted = accepted_on(local_stack, derived, correlation_id)
    assert accepted.priority_source == "derived"
    assert accepted.priority_reasons or derived == "normal"


def test_pii_never_reaches_the_accepted_event(local_stack: EmulatedStack) -> None:
    # Given tickets full of emails, card and phone numbers
    first = submit(local_stack, "TicketSubmitted.json")
    second = submit(local_stack, "tickets/T-2003.json")
    # When intake accepts them, Then the events on the queues carry placeholders and counts, no PII
    for correlation_id, priority in ((first, "high"), (second, "high")):
        accepted = accepted_on(local_stack, priority, correlation_id)
        published = accepted.model_dump_json()
        assert not [value for value in PII if value in published]
        assert accepted.redactions.get("card") == 1 and accepted.redactions.get("phone") == 1
        assert "[CARD]" in accepted.body and "[PHONE]" in accepted.body


def test_poison_message_lands_in_the_dlq_while_its_batch_mate_succeeds(local_stack: EmulatedStack) -> None:
    # Given one good ticket and one message that is not an EventBridge event, sent in one batch
    sqs = local_stack.clients.sqs
    good = load_event(EVENTS / "tickets/T-2005.json")
    correlation_id = f"T-{uuid.uuid4().hex[:10]}"
    good["id"] = str(uuid.uuid4())
    good["detail"].update(event_id=str(uuid.uuid4()), correlation_id=correlation_id, ticket_id=correlation_id)
    poison = f"poison-{uuid.uuid4().hex}: not json"
    sqs.send_message_batch(
        QueueUrl=local_stack.physical_id("IntakeQueue"),
        Entries=[{"Id": "good", "MessageBody": json.dumps(good)}, {"Id": "poison", "MessageBody": poison}],
    )
    # Then the good one is accepted (high: an enterprise customer locked out)
    assert accepted_on(local_stack, "high", correlation_id).ticket_id == correlation_id
    # And the poison one ends in the intake DLQ after the template's maxReceiveCount receives
    dlq_url = local_stack.physical_id("IntakeDeadLetterQueue")
    (dead,) = take_messages(sqs, dlq_url, lambda message: message.body == poison, timeout=60)
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=local_stack.physical_id("IntakeQueue"), AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]["RedrivePolicy"]
    )
    assert dead.receive_count >= int(redrive["maxReceiveCount"]) == 3


# --- what an outside test found: each class ends as a TicketRejected (or a clean TicketAccepted) -------

# One character whose NFKC form is 18 characters: 10,000 of them pass the 20,000-character limit as sent.
EXPANDING = "\ufdfa"


@pytest.fixture(scope="module")
def rejections(local_stack: EmulatedStack) -> Iterator[str]:
    """A queue that gets every TicketRejected on the bus (a rule of this test only, removed afterwards)."""
    sqs, events = local_stack.clients.sqs, local_stack.clients.events
    name = f"{local_stack.stack_name}-rejections-{uuid.uuid4().hex[:6]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = local_stack.physical_id("EventBus")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": ["TicketRejected"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "rejections", "Arn": queue_arn}])
    yield queue_url
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["rejections"])
    events.delete_rule(Name=name, EventBusName=bus)
    sqs.delete_queue(QueueUrl=queue_url)


def rejected(stack: EmulatedStack, queue_url: str, correlation_id: str) -> TicketRejected:
    """The TicketRejected of this flow, as intake published it on the bus."""
    (message,) = take_messages(stack.clients.sqs, queue_url, in_flow(correlation_id), timeout=30)
    assert message.json["source"] == "supportflow.intake"
    return TicketRejected.model_validate(message.json["detail"])


@pytest.mark.parametrize(
    ("field", "value"), [("ticket_id", 12345), ("tenant_id", 7), ("correlation_id", None), ("correlation_id", {})]
)
def test_an_identifier_of_the_wrong_type_is_rejected_not_dead_lettered(
    local_stack: EmulatedStack, rejections: str, unique_id: str, field: str, value: object
) -> None:
    # Given a well-formed bus event whose identifier has the wrong JSON type
    ticket_id = f"T-{unique_id}"
    ids = {"event_id": str(uuid.uuid4()), "correlation_id": ticket_id, "ticket_id": ticket_id}
    sample = load_event(EVENTS / "TicketSubmitted.json")
    # When it is put on the bus
    put_bus_event(local_stack.clients.events, local_stack.physical_id("EventBus"), sample, {**ids, field: value})
    # Then intake answers with a TicketRejected naming the field, addressed to the flow it can still tell
    outcome = rejected(local_stack, rejections, ticket_id)
    assert outcome.reason == "invalid TicketSubmitted"
    assert any(error.startswith(f"{field}:") for error in outcome.errors)


def test_pathologically_nested_attributes_are_rejected_not_dead_lettered(
    local_stack: EmulatedStack, rejections: str, unique_id: str
) -> None:
    # Given a ticket whose attributes nest 800 levels deep: past pydantic's JSON parser (~255), within
    # what the emulator's own json.loads takes (the unit tests go to 10,000)
    ticket_id = f"T-{unique_id}"
    detail = load_event(EVENTS / "TicketSubmitted.json")["detail"]
    detail.update(event_id=str(uuid.uuid4()), correlation_id=ticket_id, ticket_id=ticket_id, attributes="DEEP")
    depth = 800
    text = json.dumps(detail).replace('"DEEP"', '{"order": ' + '{"a": ' * depth + "{}" + "}" * depth + "}")
    # When it is put on the bus
    bus = local_stack.physical_id("EventBus")
    entry: PutEventsRequestEntryTypeDef = {
        "EventBusName": bus,
        "Source": "helpdesk.zendesk",
        "DetailType": "TicketSubmitted",
        "Detail": text,
    }
    local_stack.clients.events.put_events(Entries=[entry])
    # Then intake rejects it for the attributes field
    outcome = rejected(local_stack, rejections, ticket_id)
    assert outcome.errors == ["attributes.order: Input should be a valid string"]


def test_text_that_outgrows_the_limit_under_normalisation_is_rejected_not_dead_lettered(
    local_stack: EmulatedStack, rejections: str
) -> None:
    # Given a body of 10,000 characters that NFKC expands to 180,000
    # When it is submitted
    correlation_id = submit(local_stack, "TicketSubmitted.json", body=EXPANDING * 10_000)
    # Then intake rejects it with the sizes as the reason
    outcome = rejected(local_stack, rejections, correlation_id)
    assert outcome.reason == "body is 180000 characters once normalised; the limit is 20000"


def test_pii_in_less_common_formats_never_reaches_the_accepted_event(local_stack: EmulatedStack) -> None:
    # Given a ticket with a non-ASCII email, bare national phone numbers, a lower-case dashed IBAN, a dotted
    # card number, and an email as the customer id
    pii = {
        "josé.müller@exämple.de": "email",
        "用户@例子.广告": "email",
        "07700900123": "phone",
        "0612345678": "phone",
        "4155552671": "phone",
        "de89-3704-0044-0532-0130-00": "iban",
        "4111.1111.1111.1111": "card",
    }
    body = "Order ORD-2024-5531 (#A-10023): " + "; ".join(f"{kind} {value}" for value, kind in pii.items())
    customer = {"customer_id": "dana.fox@example.com", "tier": "standard"}
    # When it is submitted
    correlation_id = submit(local_stack, "TicketSubmitted.json", body=body, customer=customer, priority="low")
    # Then the accepted event carries placeholders and counts, the ids intact, and none of the PII
    accepted = accepted_on(local_stack, "low", correlation_id)
    published = accepted.model_dump_json()
    assert not [value for value in [*pii, "dana.fox"] if value in published]
    assert "ORD-2024-5531" in accepted.body and "#A-10023" in accepted.body
    assert accepted.customer_id == "[EMAIL]"
    assert accepted.redactions == {"email": 3, "phone": 3, "iban": 1, "card": 1}
