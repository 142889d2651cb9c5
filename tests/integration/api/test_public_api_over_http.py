"""The public REST API through real HTTP against the local gateway: every route, validation, budgets, tenants."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from supportflow.local.stack import EmulatedStack
from tests.integration.api.conftest import PublicApi

pytestmark = pytest.mark.integration

TICKET = {
    "subject": "Refund not received",
    "description": "I returned my order two weeks ago and the refund has not arrived.",
    "category": "billing",
    "priority": "critical",
    "customer": {"customer_id": "c-42", "tier": "premium"},
}


def test_a_ticket_is_submitted_202_then_read_only_by_its_tenant(
    public_api: PublicApi, api_stack: EmulatedStack
) -> None:
    # When acme submits a critical ticket
    submitted = public_api.call("POST", "/tickets", json=TICKET)
    # Then 202 with its status URL on this server, an hour's estimate, and what remains of the budget
    assert submitted.status_code == 202
    body = submitted.json()
    assert body["status_url"] == f"{public_api.url}/tickets/{body['ticket_id']}"
    assert body["estimated_response_minutes"] == 60
    assert int(submitted.headers["X-Budget-Remaining-Daily"]) > 0
    # Given the pipeline recorded it (written here: this stack runs no pipeline workers)
    api_stack.client("dynamodb").put_item(
        TableName=api_stack.outputs["TicketsTableName"],
        Item={
            "pk": {"S": f"acme#{body['ticket_id']}"},
            "tenant_id": {"S": "acme"},
            "ticket_id": {"S": body["ticket_id"]},
            "status": {"S": "analyzed"},
            "classification": {"M": {"intent": {"S": "refund_status"}, "key_issues": {"L": [{"S": "late refund"}]}}},
            "sentiment": {"M": {"label": {"S": "negative"}, "score": {"N": "-0.6"}}},
        },
    )
    # When acme reads it, and globex tries to
    mine = public_api.call("GET", f"/tickets/{body['ticket_id']}")
    theirs = public_api.call("GET", f"/tickets/{body['ticket_id']}", tenant="fuzz")
    # Then acme sees the analysis and the other tenant gets the one error shape's 404
    assert mine.status_code == 200
    assert (mine.json()["intent"], mine.json()["sentiment"], mine.json()["key_issues"]) == (
        "refund_status",
        "negative",
        ["late refund"],
    )
    assert (theirs.status_code, theirs.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    "body",
    [{**TICKET, "priority": "whenever"}, {k: v for k, v in TICKET.items() if k != "customer"}, {**TICKET, "x": 1}],
)
def test_a_malformed_body_is_refused_by_the_gateways_validator(public_api: PublicApi, body: dict[str, Any]) -> None:
    # When a body that fails the TicketIn model is posted, Then API Gateway answers 400 in the error shape
    response = public_api.call("POST", "/tickets", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_feedback_is_accepted(public_api: PublicApi) -> None:
    # When inline feedback is posted, Then 202 with its id
    response = public_api.call("POST", "/feedback", json={"text": "Quick and friendly help", "rating": 5})
    assert (response.status_code, response.json()["status"]) == (202, "received")


def test_a_chat_session_is_kept_read_and_deleted(public_api: PublicApi) -> None:
    # When acme chats twice in one session
    first = public_api.call("POST", "/chat", json={"message": "How do refunds work?"})
    assert first.status_code == 200, first.text
    session_id = first.json()["session_id"]
    second = public_api.call("POST", "/chat", json={"message": "And how long?", "session_id": session_id})
    # Then both are answered with usage, the budget headers shrink, and the session holds four turns
    assert second.status_code == 200
    assert second.json()["usage"]["input_tokens"] > 0
    assert int(second.headers["X-Budget-Remaining-Daily"]) < int(first.headers["X-Budget-Remaining-Daily"])
    session = public_api.call("GET", f"/chat/sessions/{session_id}").json()
    assert [t["role"] for t in session["turns"]] == ["user", "assistant", "user", "assistant"]
    # When another tenant reads it, Then 404; when acme deletes it, Then it is gone
    assert public_api.call("GET", f"/chat/sessions/{session_id}", tenant="fuzz").status_code == 404
    assert public_api.call("DELETE", f"/chat/sessions/{session_id}").status_code == 204
    assert public_api.call("GET", f"/chat/sessions/{session_id}").status_code == 404


def test_a_batch_of_queries_is_answered_by_the_worker(public_api: PublicApi) -> None:
    # When two queries are posted
    accepted = public_api.call(
        "POST", "/queries", json={"queries": [{"question": "What is an SLA?"}, {"question": "Define churn."}]}
    )
    assert accepted.status_code == 202
    # Then each reaches done with a result, usage and cost
    deadline = time.monotonic() + 60
    states: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        states = [public_api.call("GET", f"/queries/{q}").json() for q in accepted.json()["query_ids"]]
        if all(s["status"] in ("done", "failed") for s in states):
            break
        time.sleep(0.5)
    assert [s["status"] for s in states] == ["done", "done"], states
    assert all(s["result"] and s["usage"]["output_tokens"] > 0 for s in states)


def test_a_tenant_over_budget_is_denied_while_another_is_served(
    public_api: PublicApi, api_stack: EmulatedStack
) -> None:
    # Given globex has spent its 100 daily tokens
    from workers.shared.budgets import BudgetLimits, DynamoDBBudgetStore, TokenBudget  # noqa: PLC0415

    budget = TokenBudget(
        DynamoDBBudgetStore(api_stack.outputs["BudgetsTableName"], client=api_stack.client("dynamodb"))
    )
    limits = BudgetLimits(daily=100, monthly=1_000)
    budget.settle(budget.reserve("globex", 100, limits), 100)
    # When globex and acme call
    denied = public_api.call("POST", "/feedback", tenant="globex", json={"text": "hello"})
    served = public_api.call("POST", "/feedback", json={"text": "hello"})
    # Then the authorizer denies globex (403, the error shape) and acme is served
    assert (denied.status_code, denied.json()["code"]) == (403, "access_denied")
    assert served.status_code == 202
    # And a call with no key at all is unauthorized
    assert public_api.call("POST", "/feedback", tenant=None, json={"text": "hello"}).status_code == 401


def test_two_concurrent_chats_near_the_limit_cannot_both_spend(public_api: PublicApi, api_stack: EmulatedStack) -> None:
    # Given "tight" can afford one chat's reservation (~1.1k of 1,100 tokens) but not two
    def chat(_: int) -> int:
        return public_api.call("POST", "/chat", tenant="tight", json={"message": "hi"}).status_code

    # When two chats are sent at once
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(chat, range(2)))
    # Then one is answered and the other refused for budget, and the day's counter stays within the limit
    assert statuses == [200, 429]
    from workers.shared.budgets import BudgetLimits, DynamoDBBudgetStore, TokenBudget  # noqa: PLC0415

    budget = TokenBudget(
        DynamoDBBudgetStore(api_stack.outputs["BudgetsTableName"], client=api_stack.client("dynamodb"))
    )
    assert budget.remaining("tight", BudgetLimits(daily=1_100, monthly=100_000)).daily >= 0


def test_a_feedback_document_is_uploaded_to_its_presigned_url(public_api: PublicApi, api_stack: EmulatedStack) -> None:
    # When acme announces a text document
    body = {"document": {"filename": "notes.txt", "content_type": "text/plain"}, "customer_id": "c-9"}
    accepted = public_api.call("POST", "/feedback", json=body)
    assert accepted.status_code == 202, accepted.text
    answer = accepted.json()
    # And PUTs it to the presigned URL with the headers given
    put = requests.put(answer["upload_url"], data=b"Great service.", headers=answer["upload_headers"], timeout=30)
    assert put.status_code == 200, put.text
    # Then the object sits under feedback/ in the feedback bucket with the ids the pipeline reads
    head = api_stack.client("s3").head_object(
        Bucket=api_stack.outputs["FeedbackBucketName"], Key=f"feedback/{answer['feedback_id']}.txt"
    )
    assert head["Metadata"] == {"feedback-id": answer["feedback_id"], "tenant-id": "acme", "customer-id": "c-9"}
