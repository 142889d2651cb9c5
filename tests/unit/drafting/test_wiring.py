"""The bus handler built from the real wiring with fakes, and what the template gives the two functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from schemas.events import ResponseDrafted, TicketAnalyzed
from supportflow.local.template import load_template
from tests.unit.drafting.fakes import FakeKnowledge, ScriptedRuntime, client_on
from tests.unit.drafting.test_chain import CHECK, EXTRACT, QUESTIONS, REFUNDS, REPLY, supported
from tests.unit.fakes import FakeLambdaContext, InMemoryIdempotencyStore
from tests.unit.runtime.test_worker import sqs_event
from workers.drafting.bedrock import BedrockDraftingModel
from workers.drafting.wiring import DraftingSettings, build_app
from workers.shared.publisher import InMemoryPublisher
from workers.shared.runtime.worker import sqs_worker

LoadEvent = Callable[[str], dict[str, Any]]
ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_a_ticket_delivered_twice_is_drafted_once(load_event: LoadEvent) -> None:
    # Given the bus handler wired with a scripted model, a fake knowledge source and fake stores
    runtime = ScriptedRuntime({EXTRACT: [QUESTIONS], CHECK: [supported("Duplicate charges are refunded")]}, [REPLY])
    publisher = InMemoryPublisher()
    settings = DraftingSettings(event_bus_name="bus", idempotency_table_name="idempotency")
    handler = sqs_worker(
        consumes=TicketAnalyzed,
        build=lambda: build_app(
            settings,
            model=BedrockDraftingModel(client_on(runtime)),
            knowledge=FakeKnowledge({"refund": [REFUNDS]}),
            publisher=publisher,
            persistence=InMemoryIdempotencyStore(),
        ),
    )
    body = json.dumps(load_event("TicketAnalyzed"))
    # When the same TicketAnalyzed arrives twice
    responses = [handler(sqs_event(body), FakeLambdaContext()) for _ in range(2)]
    # Then both succeed and one ResponseDrafted was published, from one extraction
    assert [r["batchItemFailures"] for r in responses] == [[], []]
    assert [type(e) for e in publisher.published] == [ResponseDrafted]
    assert len(runtime.sent(EXTRACT)) == 1


def test_only_tickets_that_need_no_escalation_reach_the_drafting_queue() -> None:
    # Given the translated template, Then the bus rule matches TicketAnalyzed with needs_escalation false
    pattern = TEMPLATE.resources["DraftingTicketRule"]["Properties"]["EventPattern"]
    assert pattern == {"detail-type": ["TicketAnalyzed"], "detail": {"needs_escalation": [False]}}


def test_only_the_task_function_may_answer_tasks_and_both_run_their_handlers() -> None:
    # Given the two functions' translated roles
    def actions(function: str) -> set[str]:
        role = TEMPLATE.resources[f"{function}Role"]["Properties"]
        return {
            action
            for policy in role["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
            for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        }

    # Then only the task function may send task answers, and each runs its handler of the module
    assert {"states:SendTaskSuccess", "states:SendTaskFailure"} <= actions("DraftTaskFunction")
    assert not {a for a in actions("DraftingFunction") if a.startswith("states:")}
    handlers = {f: TEMPLATE.resources[f]["Properties"]["Handler"] for f in ("DraftingFunction", "DraftTaskFunction")}
    assert handlers == {
        "DraftingFunction": "workers.drafting.handler.lambda_handler",
        "DraftTaskFunction": "workers.drafting.handler.task_handler",
    }


def test_both_functions_read_the_knowledge_source_the_template_names() -> None:
    # Given the translated template, Then each drafting function gets the knowledge settings and read policy
    for function in ("DraftingFunction", "DraftTaskFunction"):
        properties = TEMPLATE.resources[function]["Properties"]
        variables = properties["Environment"]["Variables"]
        assert variables["KNOWLEDGE_SOURCE"] == {"Ref": "KnowledgeSource"}
        assert variables["KNOWLEDGE_BASE_ID"] == {"Ref": "KnowledgeBaseId"}
        role = TEMPLATE.resources[f"{function}Role"]["Properties"]
        assert {"Ref": "KnowledgeReadPolicy"} in role["ManagedPolicyArns"]
