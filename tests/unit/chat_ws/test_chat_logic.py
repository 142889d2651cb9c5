"""The chat rules on fakes of the same ports: streaming, budget, errors, a vanished client."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from workers.chat_ws.fakes import InMemoryConnectionStore, InMemorySessionStore
from workers.chat_ws.logic import ChatConfig, ChatService, ConnectionUnknown
from workers.chat_ws.models import SendMessage
from workers.chat_ws.ports import ConnectionGone, Turn
from workers.shared.bedrock import ModelThrottled, Result, StreamInterrupted, StreamListener, Usage
from workers.shared.budgets import BudgetLimits, InMemoryBudgetStore, TokenBudget

LIMITS = BudgetLimits(daily=5_000, monthly=50_000)


class RecordingSender:
    """The socket: keeps what was posted; after ``gone_after`` posts the connection is gone."""

    def __init__(self, gone_after: int | None = None) -> None:
        self.posted: list[dict[str, Any]] = []
        self.gone_after = gone_after

    def post(self, connection_id: str, data: bytes) -> None:
        if self.gone_after is not None and len(self.posted) >= self.gone_after:
            raise ConnectionGone(connection_id)
        self.posted.append(json.loads(data))


class StreamingModel:
    """Streams its reply word by word to the listener and bills 1 token per 4 input characters and per word."""

    def __init__(self, reply: str = "Reset it from the sign-in page.", error: Exception | None = None) -> None:
        self.reply = reply
        self.error = error
        self.seen: list[Sequence[Any]] = []

    def converse_stream(self, task: str, messages: Sequence[Any], **kwargs: Any) -> Result[str]:
        self.seen.append(messages)
        listener: StreamListener = kwargs["listener"]
        words = self.reply.split(" ")
        for index, word in enumerate(words):
            if self.error is not None and index == 2:
                raise self.error
            listener.on_text(word if index == 0 else " " + word)
        usage = Usage(input_tokens=sum(len(json.dumps(m)) for m in messages) // 4, output_tokens=len(words))
        return Result(
            output=self.reply,
            text=self.reply,
            model_id="model-a",
            requested_model_id="model-a",
            task=task,
            usage=usage,
            cost_usd=usage.total_tokens * 1e-6,
            latency_ms=1.0,
            attempts=1,
            fallback=False,
            stop_reason="end_turn",
        )


def _service(
    model: StreamingModel, sender: RecordingSender
) -> tuple[ChatService, InMemoryConnectionStore, InMemorySessionStore, TokenBudget]:
    connections, sessions = InMemoryConnectionStore(), InMemorySessionStore()
    budget = TokenBudget(InMemoryBudgetStore())
    service = ChatService(
        connections=connections,
        sessions=sessions,
        sender=sender,
        model=model,
        budget=budget,
        config=ChatConfig(max_output_tokens=100),
    )
    service.connect("c1", "acme", LIMITS)
    return service, connections, sessions, budget


def _ask(text: str = "How do I reset my password?", session: str = "s1") -> SendMessage:
    return SendMessage(action="chat.send_message", session_id=session, message=text)


def test_each_delta_is_posted_then_the_completion_and_the_turn_is_kept() -> None:
    # Given a connected tenant
    sender = RecordingSender()
    service, _, sessions, budget = _service(StreamingModel(), sender)
    # When it sends a message
    service.send_message("c1", _ask())
    # Then the deltas arrive in order and join to the reply, then the completion with usage
    chunks = [m["delta"] for m in sender.posted if m["type"] == "chat.message_stream"]
    assert "".join(chunks) == "Reset it from the sign-in page."
    complete = sender.posted[-1]
    assert complete["type"] == "chat.message_complete"
    assert complete["usage"]["output_tokens"] == 6
    assert sessions.history("acme", "s1") == [
        Turn("user", "How do I reset my password?"),
        Turn("assistant", "Reset it from the sign-in page."),
    ]
    # And exactly the actual usage was charged
    assert budget.remaining("acme", LIMITS).daily == LIMITS.daily - complete["usage"]["total_tokens"]


def test_the_history_goes_to_the_model_before_the_new_turn() -> None:
    # Given a session with one earlier turn
    model = StreamingModel()
    service, _, _, _ = _service(model, RecordingSender())
    service.send_message("c1", _ask("first"))
    # When a second message is sent
    service.send_message("c1", _ask("second"))
    # Then the model saw user, assistant, user in that order
    assert [m["role"] for m in model.seen[-1]] == ["user", "assistant", "user"]
    assert model.seen[-1][-1]["content"][0]["text"] == "second"


def test_a_spent_budget_is_a_protocol_error_and_the_model_is_not_called() -> None:
    # Given a tenant with 50 tokens left
    model, sender = StreamingModel(), RecordingSender()
    service, _, _, budget = _service(model, sender)
    budget.settle(budget.reserve("acme", LIMITS.daily - 50, LIMITS), LIMITS.daily - 50)
    # When it asks (the estimate includes the 100 output tokens)
    service.send_message("c1", _ask())
    # Then one chat.error budget_exhausted, no model call
    assert [(m["type"], m["code"]) for m in sender.posted] == [("chat.error", "budget_exhausted")]
    assert model.seen == []


@pytest.mark.parametrize(
    ("error", "code"),
    [(ModelThrottled("throttled", code="ThrottlingException"), "throttled"), (StreamInterrupted("cut"), "model_error")],
)
def test_a_model_failure_mid_stream_is_a_protocol_error_and_nothing_is_charged(error: Exception, code: str) -> None:
    # Given a model that fails after two deltas
    sender = RecordingSender()
    service, _, sessions, budget = _service(StreamingModel(error=error), sender)
    # When a message is sent
    service.send_message("c1", _ask())
    # Then the deltas sent so far are followed by chat.error with the code, no turn kept, nothing charged
    assert [m["type"] for m in sender.posted] == ["chat.message_stream", "chat.message_stream", "chat.error"]
    assert sender.posted[-1]["code"] == code
    assert sessions.history("acme", "s1") == []
    assert budget.remaining("acme", LIMITS).daily == LIMITS.daily


def test_a_vanished_client_stops_the_stream_and_its_connection_is_deleted() -> None:
    # Given a client that is gone after the first delta
    sender = RecordingSender(gone_after=1)
    service, connections, sessions, budget = _service(StreamingModel(), sender)
    # When a message is sent
    service.send_message("c1", _ask())
    # Then the connection row is gone, no turn kept, and the reservation stays charged (usage unknown)
    assert connections.get("c1") is None
    assert sessions.history("acme", "s1") == []
    assert budget.remaining("acme", LIMITS).daily < LIMITS.daily


class FallbackModel(StreamingModel):
    """Streams two words of a first model, then answers whole from a fallback model without a restart."""

    def converse_stream(self, task: str, messages: Sequence[Any], **kwargs: Any) -> Result[str]:
        listener: StreamListener = kwargs["listener"]
        listener.on_text("Partial")
        listener.on_text(" answ")
        full = super().converse_stream(task, messages, listener=_Silent())
        return full


class _Silent:
    def on_text(self, delta: str) -> None:
        del delta

    def on_restart(self, attempt: int) -> None:
        del attempt


def test_text_streamed_before_an_unannounced_fallback_is_replaced_by_the_final_answer() -> None:
    # Given a model route whose first model stops mid-answer and whose fallback answers whole
    sender = RecordingSender()
    service, _, sessions, _ = _service(FallbackModel(), sender)
    # When a message is sent
    service.send_message("c1", _ask())
    # Then the client is told to reset and receives the final answer, which is what the session keeps
    types = [m["type"] for m in sender.posted]
    assert types[-3:] == ["chat.message_reset", "chat.message_stream", "chat.message_complete"]
    assert sender.posted[-2]["delta"] == sessions.history("acme", "s1")[1].text == "Reset it from the sign-in page."


def test_a_message_on_an_unknown_connection_is_refused() -> None:
    # Given a service with no record of connection c2
    service, _, _, _ = _service(StreamingModel(), RecordingSender())
    # When c2 sends, Then it is refused
    with pytest.raises(ConnectionUnknown):
        service.send_message("c2", _ask())
