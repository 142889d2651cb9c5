"""The Step Functions path: SendTaskSuccess with the draft, SendTaskFailure by error name, once per token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.drafting.fakes import FakeKnowledge, ScriptedRuntime, client_on
from tests.unit.drafting.test_chain import CHECK, EXTRACT, QUESTIONS, REFUNDS, REPLY, supported
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.runtime.test_worker import sqs_event
from workers.drafting.bedrock import BedrockDraftingModel
from workers.drafting.callbacks import InMemoryCallbacks
from workers.drafting.logic import DraftingChain, RetrievalPolicy
from workers.drafting.tasks import DraftTask, TaskDraftingService, task_event_id
from workers.shared.bedrock import ModelThrottled
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.readers import TaskTokenReader
from workers.shared.runtime.worker import WorkerApp, sqs_worker_reading

LoadEvent = Callable[[str], dict[str, Any]]
TOKEN = "AAAAKgAAAAIAAAAAAAAAAQ-token"


@pytest.fixture
def detail(load_event: LoadEvent) -> dict[str, Any]:
    detail: dict[str, Any] = load_event("TicketAnalyzed")["detail"]
    return {**detail, "needs_escalation": True, "escalation_reasons": ["angry premium customer"]}


class Wired:
    """The task service on a scripted model, with its fakes in reach."""

    def __init__(self, runtime: ScriptedRuntime, gone: frozenset[str] = frozenset()) -> None:
        self.runtime = runtime
        self.publisher = InMemoryPublisher()
        self.callbacks = InMemoryCallbacks(gone)
        chain = DraftingChain(
            BedrockDraftingModel(client_on(runtime)), FakeKnowledge({"refund": [REFUNDS]}), RetrievalPolicy()
        )
        self.service = TaskDraftingService(chain, self.publisher, self.callbacks)


def grounded_runtime() -> ScriptedRuntime:
    return ScriptedRuntime({EXTRACT: [QUESTIONS], CHECK: [supported("Duplicate charges are refunded")]}, [REPLY])


def test_a_drafted_task_publishes_for_escalation_and_answers_success(detail: dict[str, Any]) -> None:
    # Given a task message for an escalated ticket
    wired = Wired(grounded_runtime())
    # When it is processed
    event = wired.service.process(DraftTask(task_token=TOKEN, ticket=detail))
    # Then the draft is on the bus for escalation, and the task got the draft, verdict, sources and event id
    assert event is not None and wired.publisher.published == [event]
    assert event.for_escalation and event.event_id == task_event_id(TOKEN)
    output = wired.callbacks.succeeded[TOKEN]
    assert output["draft"] == event.draft and output["grounded"] is True
    assert output["sources"][0]["uri"] == REFUNDS.uri and output["event_id"] == event.event_id
    json.dumps(output)  # Step Functions takes it as JSON


def test_an_invalid_ticket_fails_the_task_by_name_without_echoing_it(detail: dict[str, Any]) -> None:
    # Given a ticket whose priority breaks the contract
    wired = Wired(grounded_runtime())
    secret = "jane.doe@example.com"
    # When it is processed
    result = wired.service.process(DraftTask(task_token=TOKEN, ticket={**detail, "priority": secret}))
    # Then the task is failed as TicketInvalid, naming the field, never the value; nothing is published
    assert result is None and wired.publisher.published == []
    error, cause = wired.callbacks.failed[TOKEN]
    assert error == "TicketInvalid" and "priority" in cause and secret not in cause


def test_a_model_that_keeps_answering_off_schema_fails_the_task(detail: dict[str, Any]) -> None:
    # Given an extraction answer that is invalid every time (questions is not a list)
    wired = Wired(ScriptedRuntime({EXTRACT: [{"questions": 7}]}, [REPLY]))
    # When it is processed / Then the task fails with the client's exception name
    assert wired.service.process(DraftTask(task_token=TOKEN, ticket=detail)) is None
    assert wired.callbacks.failed[TOKEN] == ("StructuredOutputInvalid", "drafting failed: StructuredOutputInvalid")


def test_a_throttled_model_is_raised_for_sqs_to_retry(detail: dict[str, Any]) -> None:
    # Given a model that is throttled
    class Throttled(ScriptedRuntime):
        def converse(self, request: Any) -> dict[str, Any]:
            raise ModelThrottled("throttled", model_id="m", code="ThrottlingException")

    wired = Wired(Throttled({}, []))
    # When it is processed / Then it raises and the task is not answered
    with pytest.raises(ModelThrottled):
        wired.service.process(DraftTask(task_token=TOKEN, ticket=detail))
    assert wired.callbacks.succeeded == {} and wired.callbacks.failed == {}


def test_a_task_that_no_longer_waits_still_gets_its_draft_published(detail: dict[str, Any]) -> None:
    # Given a task that timed out in the state machine
    wired = Wired(grounded_runtime(), gone=frozenset({TOKEN}))
    # When it is processed / Then the draft is published and the record does not fail
    assert wired.service.process(DraftTask(task_token=TOKEN, ticket=detail)) is not None
    assert len(wired.publisher.published) == 1


def test_the_same_task_message_twice_is_drafted_and_answered_once(detail: dict[str, Any]) -> None:
    # Given the task handler built from the reader seam with fakes
    wired = Wired(grounded_runtime())
    store = InMemoryIdempotencyStore()
    handler = sqs_worker_reading(
        TaskTokenReader(DraftTask),
        lambda: WorkerApp(handle=wired.service.process, persistence=store),
    )
    body = json.dumps({"taskToken": TOKEN, "ticket": detail})
    # When SQS delivers the message twice
    first = handler(sqs_event(body), FakeLambdaContext())
    second = handler(sqs_event(body), FakeLambdaContext())
    # Then neither fails, one draft is published and the extraction ran once
    assert first["batchItemFailures"] == second["batchItemFailures"] == []
    assert len(wired.publisher.published) == 1 and len(wired.runtime.sent(EXTRACT)) == 1
    assert list(wired.callbacks.succeeded) == [TOKEN]


def test_a_message_without_a_task_token_fails_the_record(detail: dict[str, Any]) -> None:
    # Given a body that is not a task message
    wired = Wired(grounded_runtime())
    handler = sqs_worker_reading(
        TaskTokenReader(DraftTask),
        lambda: WorkerApp(handle=wired.service.process, persistence=InMemoryIdempotencyStore()),
    )
    # When it is delivered / Then the record fails (left for the DLQ) and nothing is answered
    response = handler(sqs_event(json.dumps({"ticket": detail})), FakeLambdaContext())
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == ["m-0"]
    assert wired.publisher.published == []
