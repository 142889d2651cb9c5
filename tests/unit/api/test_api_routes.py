"""The public API's routes through REST proxy events with the authorizer's context, over fakes of every port."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from schemas.envelope import Event
from tests.unit.fakes import FakeLambdaContext
from workers.api.app import app, refuse_unreadable_body
from workers.api.handler import lambda_handler
from workers.api.logic import ApiService
from workers.api.models import QueryOut, TicketOut, TurnOut
from workers.api.openapi import OPENAPI_PATH, openapi_document
from workers.api.ports import ModelReply
from workers.api.stores import ticket_view
from workers.shared.budgets import BudgetLimits, InMemoryBudgetStore, TokenBudget
from workers.shared.runtime.http import HttpWorker, http_worker
from workers.shared.runtime.once import WorkerMisconfigured

LIMITS = BudgetLimits(daily=5_000, monthly=50_000)


@dataclass
class FakeWorld:
    """Every port the API talks to, in memory."""

    events: list[Event] = field(default_factory=list)
    tickets: dict[tuple[str, str], TicketOut] = field(default_factory=dict)
    sessions: dict[str, tuple[str, list[TurnOut]]] = field(default_factory=dict)
    queries: dict[tuple[str, str], QueryOut] = field(default_factory=dict)
    queued: list[dict[str, Any]] = field(default_factory=list)
    prompts: list[tuple[str, list[TurnOut], int]] = field(default_factory=list)
    fail_model: bool = False
    presigned: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    handler: HttpWorker[ApiService] | None = None

    def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def get(self, tenant_id: str, ticket_id: str) -> TicketOut | None:
        return self.tickets.get((tenant_id, ticket_id))

    def history(self, tenant_id: str, session_id: str) -> list[TurnOut] | None:
        owner, turns = self.sessions.get(session_id, ("", []))
        return list(turns) if owner == tenant_id else None

    def append(self, tenant_id: str, session_id: str, turns: Sequence[TurnOut]) -> None:
        self.sessions.setdefault(session_id, (tenant_id, []))[1].extend(turns)

    def delete(self, tenant_id: str, session_id: str) -> bool:
        if self.sessions.get(session_id, ("",))[0] != tenant_id:
            return False
        del self.sessions[session_id]
        return True

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        self.queued.extend(messages)

    def reply(self, system: str, turns: Sequence[TurnOut], *, route: str | None, max_input_tokens: int) -> ModelReply:
        if self.fail_model:
            raise RuntimeError("model down")
        self.prompts.append((system, list(turns), max_input_tokens))
        return ModelReply(f"echo: {turns[-1].text}", "test-model", 40, 10, 0.0005)

    def estimate(self, system: str, turns: Sequence[TurnOut], max_output_tokens: int) -> int:
        return 100 + max_output_tokens

    def presign_put(self, key: str, content_type: str, metadata: dict[str, str]) -> tuple[str, dict[str, str], int]:
        self.presigned.append((key, metadata))
        return f"https://bucket.example/{key}?signed", {"Content-Type": content_type}, 900


class FakeQueries:
    """The query store port over the world's dict."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def create(self, tenant_id: str, query_id: str) -> None:
        self.world.queries[(tenant_id, query_id)] = QueryOut(query_id=query_id, status="queued")

    def get(self, tenant_id: str, query_id: str) -> QueryOut | None:
        return self.world.queries.get((tenant_id, query_id))


@pytest.fixture
def world() -> FakeWorld:
    """The API's handler, built on a service over fakes of every port."""
    fake = FakeWorld()
    budget = TokenBudget(InMemoryBudgetStore())
    service = ApiService(
        fake, fake, fake, FakeQueries(fake), fake, fake, budget,
        uploads=fake, chat_max_input_tokens=8_000, chat_max_output_tokens=1_000,
    )  # fmt: skip
    fake.handler = http_worker(app, lambda: service, service="public-api", guard=refuse_unreadable_body)
    return fake


def call(
    world: FakeWorld,
    method: str,
    path: str,
    body: Any = None,
    *,
    tenant: str | None = "acme",
    raw: str | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """One REST proxy event as API Gateway sends it after the authorizer allowed ``tenant``."""
    authorizer = (
        {
            "tenantId": tenant,
            "dailyTokenLimit": str(LIMITS.daily),
            "monthlyTokenLimit": str(LIMITS.monthly),
            "remainingDaily": "5000",
            "remainingMonthly": "50000",
        }
        if tenant
        else None
    )
    headers = {"Host": "api.example.com", "Content-Type": content_type}
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {
            "stage": "dev",
            "requestId": "r-1",
            "domainName": "api.example.com",
            "authorizer": authorizer,
        },
        "body": raw if raw is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }
    assert world.handler is not None
    return world.handler(event, FakeLambdaContext())


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def _header(response: dict[str, Any], name: str) -> str:
    return str((response.get("multiValueHeaders") or {}).get(name, [None])[0] or response["headers"][name])


TICKET = {
    "subject": "Refund not received",
    "description": "I returned the order two weeks ago.",
    "category": "billing",
    "priority": "critical",
    "customer": {"customer_id": "c-1", "tier": "premium"},
}


def test_a_submitted_ticket_is_published_and_answered_202_with_its_status_url(world: FakeWorld) -> None:
    # When a critical ticket is submitted
    response = call(world, "POST", "/tickets", TICKET)
    # Then 202 with its id, status URL and an hour's estimate, and TicketSubmitted for the tenant on the bus
    assert response["statusCode"] == 202
    body = _body(response)
    assert body["status_url"] == f"https://api.example.com/dev/tickets/{body['ticket_id']}"
    assert body["estimated_response_minutes"] == 60
    (event,) = world.events
    assert (event.detail_type, event.tenant_id, event.ticket_id, event.priority) == (  # type: ignore[attr-defined]
        "TicketSubmitted",
        "acme",
        body["ticket_id"],
        "high",
    )
    assert _header(response, "X-Budget-Remaining-Daily") == "5000"


def test_a_ticket_is_read_only_by_its_tenant(world: FakeWorld) -> None:
    # Given acme's ticket record
    world.tickets[("acme", "t-1")] = ticket_view(
        {"ticket_id": "t-1", "status": "drafted", "classification": {"intent": "refund", "key_issues": ["late"]}}
    )
    # When acme and globex read it, Then acme sees it and globex gets the one error shape's 404
    assert _body(call(world, "GET", "/tickets/t-1"))["intent"] == "refund"
    missing = call(world, "GET", "/tickets/t-1", tenant="globex")
    assert missing["statusCode"] == 404
    assert _body(missing) == {"code": "not_found", "message": "no such ticket"}


@pytest.mark.parametrize(
    "body",
    [
        {**TICKET, "priority": "whenever"},
        {**TICKET, "subject": ""},
        {k: v for k, v in TICKET.items() if k != "customer"},
        {**TICKET, "surprise": 1},
    ],
)
def test_a_malformed_ticket_is_refused_with_the_error_shape_and_never_published(world: FakeWorld, body: Any) -> None:
    # When a malformed body is posted, Then 422 validation_error and nothing reaches the bus
    response = call(world, "POST", "/tickets", body)
    assert response["statusCode"] == 422
    assert _body(response)["code"] == "validation_error"
    assert world.events == []


def test_a_request_without_an_authorizer_context_is_refused(world: FakeWorld) -> None:
    # Given no tenant in the context, When called, Then 401 unauthorized
    assert _body(call(world, "POST", "/feedback", {"text": "great"}, tenant=None))["code"] == "unauthorized"


def test_feedback_is_published_with_its_text(world: FakeWorld) -> None:
    # When feedback is posted, Then FeedbackReceived carries it
    response = call(world, "POST", "/feedback", {"text": "Fast and kind support", "rating": 5})
    assert response["statusCode"] == 202
    assert world.events[0].text == "Fast and kind support"  # type: ignore[attr-defined]


def test_a_document_gets_a_presigned_upload_under_the_feedback_prefix(world: FakeWorld) -> None:
    # When feedback announces a PDF instead of text
    body = {"document": {"filename": "survey.PDF", "content_type": "application/pdf"}, "customer_id": "c-1"}
    response = call(world, "POST", "/feedback", body)
    # Then 202 awaiting_upload with a URL for feedback/<id>.pdf carrying the ids the pipeline reads
    assert response["statusCode"] == 202
    answer = _body(response)
    assert (answer["status"], answer["expires_in_seconds"]) == ("awaiting_upload", 900)
    key, metadata = world.presigned[0]
    assert key == f"feedback/{answer['feedback_id']}.pdf"
    assert metadata == {"feedback-id": answer["feedback_id"], "tenant-id": "acme", "customer-id": "c-1"}
    assert world.events == []


@pytest.mark.parametrize("body", [{}, {"text": "hi", "document": {"filename": "a.txt", "content_type": "text/plain"}}])
def test_feedback_needs_exactly_one_of_text_and_document(world: FakeWorld, body: dict[str, Any]) -> None:
    # When neither or both are given, Then 422 in the error shape
    assert _body(call(world, "POST", "/feedback", body))["code"] == "validation_error"


def test_chat_keeps_the_session_and_charges_the_actual_usage(world: FakeWorld) -> None:
    # When two turns are sent in one session
    first = _body(call(world, "POST", "/chat", {"message": "hello"}))
    second = call(world, "POST", "/chat", {"message": "and then?", "session_id": first["session_id"]})
    # Then the second call saw the whole history under the system prompt, and 2 x 50 tokens were charged
    system, turns, limit = world.prompts[-1]
    assert system.startswith("You are supportflow's assistant")
    assert [t.text for t in turns] == ["hello", "echo: hello", "and then?"]
    assert limit == 8_000
    assert _header(second, "X-Budget-Remaining-Daily") == str(5_000 - 100)
    session = _body(call(world, "GET", f"/chat/sessions/{first['session_id']}"))
    assert len(session["turns"]) == 4


def test_a_failed_model_call_charges_nothing(world: FakeWorld) -> None:
    # Given the model is down, When chatting, Then 503 model_unavailable and the budget untouched
    world.fail_model = True
    response = call(world, "POST", "/chat", {"message": "hello"})
    assert (response["statusCode"], _body(response)["code"]) == (503, "model_unavailable")
    world.fail_model = False
    after = call(world, "POST", "/chat", {"message": "hello"})
    assert _header(after, "X-Budget-Remaining-Daily") == str(5_000 - 50)


def test_chat_over_budget_is_refused_429(world: FakeWorld) -> None:
    # Given acme has spent 4950 of 5000 tokens today, When it chats (reserving 1100)
    for _ in range(99):
        call(world, "POST", "/chat", {"message": "x"})
    response = call(world, "POST", "/chat", {"message": "one more"})
    # Then 429 budget_exhausted
    assert (response["statusCode"], _body(response)["code"]) == (429, "budget_exhausted")


def test_a_session_is_deleted_only_by_its_tenant(world: FakeWorld) -> None:
    # Given acme's session
    session_id = _body(call(world, "POST", "/chat", {"message": "hello"}))["session_id"]
    # When globex deletes it, Then 404; when acme does, 204 and it is gone
    assert call(world, "DELETE", f"/chat/sessions/{session_id}", tenant="globex")["statusCode"] == 404
    assert call(world, "DELETE", f"/chat/sessions/{session_id}")["statusCode"] == 204
    assert call(world, "GET", f"/chat/sessions/{session_id}")["statusCode"] == 404


def test_a_batch_of_queries_is_queued_high_priority_first_and_readable(world: FakeWorld) -> None:
    # When two queries are posted, the second high priority
    body = _body(
        call(world, "POST", "/queries", {"queries": [{"question": "a?"}, {"question": "b?", "priority": "high"}]})
    )
    # Then both are queued (high first) with the tenant's limits, and each reads as queued
    assert [m["question"] for m in world.queued] == ["b?", "a?"]
    assert world.queued[0]["tenant_id"] == "acme"
    assert _body(call(world, "GET", f"/queries/{body['query_ids'][0]}"))["status"] == "queued"
    assert call(world, "GET", f"/queries/{body['query_ids'][0]}", tenant="globex")["statusCode"] == 404


def test_a_non_json_body_is_refused_415_and_an_unexpected_error_leaks_no_trace(world: FakeWorld) -> None:
    # Given a non-JSON content type, Then 415 in the error shape
    form = call(world, "POST", "/feedback", raw="text=hi", content_type="application/x-www-form-urlencoded")
    assert (form["statusCode"], _body(form)["code"]) == (415, "unsupported_media_type")
    # Given a port that raises, Then 500 internal_error with no trace in the body
    world.tickets = None  # type: ignore[assignment]
    broken = call(world, "GET", "/tickets/t-1")
    assert broken["statusCode"] == 500
    assert _body(broken) == {"code": "internal_error", "message": "internal error"}


def test_the_committed_openapi_document_is_current() -> None:
    # Given the routes as coded, Then workers/api/openapi.json is what they generate
    # (regenerate with: python -m workers.api.openapi)
    assert OPENAPI_PATH.read_text(encoding="utf-8") == openapi_document()


def test_the_deployed_handler_names_a_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the template's handler with no tickets table in the environment
    monkeypatch.delenv("TICKETS_TABLE_NAME", raising=False)
    world = FakeWorld(handler=lambda_handler)
    # When a request arrives, Then the failure names the variable, not a KeyError mid-request
    with pytest.raises(WorkerMisconfigured, match="tickets_table_name"):
        call(world, "GET", "/tickets/t-1")
