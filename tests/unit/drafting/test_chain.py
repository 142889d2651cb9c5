"""The drafting chain: grounded, redrafted, ungrounded and placeholder paths, through the Bedrock adapter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from schemas.events import ResponseDrafted, TicketAnalyzed
from tests.unit.drafting.fakes import FakeKnowledge, ScriptedRuntime, client_on
from workers.drafting.bedrock import BedrockDraftingModel
from workers.drafting.logic import DraftingChain, DraftingService, RetrievalPolicy
from workers.drafting.placeholders import fill_placeholders
from workers.drafting.ports import Passage
from workers.shared.publisher import InMemoryPublisher

LoadEvent = Callable[[str], dict[str, Any]]
EXTRACT = "record_ticket_questions"
CHECK = "record_draft_check"
REFUNDS = Passage(
    text="Duplicate charges are refunded to the original card within 5 business days.",
    uri="kb://refunds/duplicate-charges",
    title="Duplicate charges",
    score=0.82,
)
PAYMENTS = Passage(text="We accept cards and PayPal.", uri="kb://payments/methods", title="Payment methods", score=0.3)
REPLY = "Duplicate charges are refunded to the original card within 5 business days. Order {{Order Number}} is noted."
QUESTIONS = {
    "questions": ["How do I get the duplicate charge refunded?"],
    "facts": [{"name": "Order Number", "value": "A-10023"}],
}


def supported(*claims: str) -> dict[str, Any]:
    return {"claims": [{"claim": c, "supported": True, "source": REFUNDS.uri} for c in claims]}


def unsupported(claim: str) -> dict[str, Any]:
    return {"claims": [{"claim": claim, "supported": False, "source": None}]}


@pytest.fixture
def ticket(load_event: LoadEvent) -> TicketAnalyzed:
    return TicketAnalyzed.from_detail(load_event("TicketAnalyzed")["detail"])


def run_chain(
    ticket: TicketAnalyzed, runtime: ScriptedRuntime, knowledge: FakeKnowledge | None = None
) -> tuple[ResponseDrafted, InMemoryPublisher]:
    knowledge = knowledge or FakeKnowledge({"refund": [REFUNDS], "pay": [PAYMENTS]})
    chain = DraftingChain(BedrockDraftingModel(client_on(runtime)), knowledge, RetrievalPolicy(min_score=0.5))
    publisher = InMemoryPublisher()
    return DraftingService(chain, publisher).process(ticket), publisher


def test_a_question_the_knowledge_answers_gets_a_grounded_reply_with_its_source(ticket: TicketAnalyzed) -> None:
    # Given a refund question, a refund article and a model whose every claim is supported
    runtime = ScriptedRuntime({EXTRACT: [QUESTIONS], CHECK: [supported("Duplicate charges are refunded")]}, [REPLY])
    # When the chain drafts
    event, publisher = run_chain(ticket, runtime)
    # Then one grounded draft is published, citing the article, its placeholder filled from the ticket's facts
    assert publisher.published == [event]
    assert (event.grounded, event.unsupported_claims, event.for_escalation) == (True, [], False)
    assert [s.uri for s in event.sources] == [REFUNDS.uri]
    assert "Order A-10023 is noted" in event.draft and event.unfilled_placeholders == []
    # And the draft was asked once, with the passage under an answerable question, on the drafting route
    (draft_request,) = runtime.sent(None)
    prompt = draft_request["messages"][0]["content"][0]["text"]
    assert 'answerable="yes"' in prompt and REFUNDS.text in prompt
    assert event.model_id == draft_request["modelId"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    # And usage and cost are summed over extraction, draft and check
    assert (event.usage.input_tokens, event.usage.output_tokens) == (3000, 300)
    assert event.usage.estimated_cost_usd > 0
    assert "Duplicate charges" in event.suggested_solution


def test_an_unsupported_claim_is_redrafted_once_with_the_feedback(ticket: TicketAnalyzed) -> None:
    # Given a first draft whose check finds a claim unsupported, and a second that passes
    claim = "Refunds are instant."
    runtime = ScriptedRuntime(
        {EXTRACT: [QUESTIONS], CHECK: [unsupported(claim), supported("Duplicate charges are refunded")]},
        [f"{claim} {REPLY}", REPLY],
    )
    # When the chain drafts
    event, _ = run_chain(ticket, runtime)
    # Then it drafted twice, the second time told which claim no document supports, and ends grounded
    first, second = runtime.sent(None)
    assert "<unsupported>" not in first["messages"][0]["content"][0]["text"]
    assert f"<claim>{claim}</claim>" in second["messages"][0]["content"][0]["text"]
    assert (event.grounded, event.unsupported_claims) == (True, [])
    assert claim not in event.draft
    assert event.usage.input_tokens == 5000


def test_a_claim_still_unsupported_after_the_redraft_is_flagged_ungrounded(ticket: TicketAnalyzed) -> None:
    # Given a check that finds the same claim unsupported twice
    claim = "Refunds are instant."
    runtime = ScriptedRuntime({EXTRACT: [QUESTIONS], CHECK: [unsupported(claim)]}, [f"{claim} {REPLY}"])
    # When the chain drafts
    event, _ = run_chain(ticket, runtime)
    # Then exactly one redraft happened and the reply is flagged with the claim
    assert len(runtime.sent(None)) == 2
    assert (event.grounded, event.unsupported_claims) == (False, [claim])


def test_a_claim_citing_a_document_it_was_not_given_is_unsupported(ticket: TicketAnalyzed) -> None:
    # Given a check that says "supported" but cites a uri that was never retrieved
    made_up = {"claims": [{"claim": "Refunds are instant.", "supported": True, "source": "kb://elsewhere"}]}
    runtime = ScriptedRuntime({EXTRACT: [QUESTIONS], CHECK: [made_up]}, [REPLY])
    # When the chain drafts / Then the claim does not count as supported
    event, _ = run_chain(ticket, runtime)
    assert (event.grounded, event.unsupported_claims) == (False, ["Refunds are instant."])


def test_a_question_no_passage_answers_is_flagged_not_answered(ticket: TicketAnalyzed) -> None:
    # Given a refund question and a payment question whose only passage scores below the minimum
    both = {"questions": ["How do I get a refund?", "Can I pay with crypto?"], "facts": []}
    runtime = ScriptedRuntime({EXTRACT: [both], CHECK: [supported("Duplicate charges are refunded")]}, [REPLY])
    # When the chain drafts
    event, _ = run_chain(ticket, runtime)
    # Then the model was told the payment question has no document, and the reply is ungrounded on it
    prompt = runtime.sent(None)[0]["messages"][0]["content"][0]["text"]
    assert '<question answerable="no">\n<ask>Can I pay with crypto?</ask>\n<documents>\n\n</documents>' in prompt
    assert PAYMENTS.text not in prompt
    assert event.grounded is False
    assert event.unsupported_claims == ["Unanswered question: Can I pay with crypto?"]
    assert [s.uri for s in event.sources] == [REFUNDS.uri]
    assert "follow up personally" in event.suggested_solution


def test_with_no_knowledge_at_all_the_reply_is_ungrounded(ticket: TicketAnalyzed) -> None:
    # Given a knowledge source that knows nothing and a check that finds no claim
    runtime = ScriptedRuntime({EXTRACT: [QUESTIONS], CHECK: [{"claims": []}]}, ["An agent will follow up."])
    # When the chain drafts / Then nothing is cited and the reply is not grounded
    event, _ = run_chain(ticket, runtime, FakeKnowledge({}))
    assert (event.grounded, event.sources) == (False, [])


def test_a_passage_retrieved_for_two_questions_is_one_source(ticket: TicketAnalyzed) -> None:
    # Given two refund questions retrieving the same passage
    two = {"questions": ["Refund of the first charge?", "Refund of the second charge?"], "facts": []}
    runtime = ScriptedRuntime({EXTRACT: [two], CHECK: [supported("Duplicate charges are refunded")]}, [REPLY])
    # When the chain drafts
    event, _ = run_chain(ticket, runtime)
    # Then the passage is cited once
    assert [s.uri for s in event.sources] == [REFUNDS.uri]


def test_placeholders_no_fact_fills_are_flagged_for_the_agent(ticket: TicketAnalyzed) -> None:
    # Given a draft with an email and an order number placeholder, and no facts
    no_facts = {"questions": ["How do I get the duplicate charge refunded?"], "facts": []}
    text = "We will write to [EMAIL] about order {{Order Number}}. Duplicate charges are refunded."
    runtime = ScriptedRuntime({EXTRACT: [no_facts], CHECK: [supported("Duplicate charges are refunded")]}, [text])
    # When the chain drafts / Then both placeholders are left as written and listed
    event, _ = run_chain(ticket, runtime)
    assert event.unfilled_placeholders == ["[EMAIL]", "{{Order Number}}"]
    assert "[EMAIL]" in event.draft


def test_a_fact_that_is_itself_redacted_fills_nothing() -> None:
    # Given an email fact that intake had redacted / When placeholders are filled
    filled, left = fill_placeholders(
        "Write to [EMAIL] re {{ order number }}.", {"email": "[EMAIL]", "Order number": "7"}
    )
    # Then the email stays a placeholder and the order number is filled
    assert (filled, left) == ("Write to [EMAIL] re 7.", ["[EMAIL]"])


def test_two_passages_of_one_article_are_cited_once_at_the_better_score(ticket: TicketAnalyzed) -> None:
    # Given two chunks of the refund article retrieved for one question
    second = Passage(text="Refunds are confirmed by email.", uri=REFUNDS.uri, title=REFUNDS.title, score=0.6)
    runtime = ScriptedRuntime({EXTRACT: [QUESTIONS], CHECK: [supported("Duplicate charges are refunded")]}, [REPLY])
    # When the chain drafts
    event, _ = run_chain(ticket, runtime, FakeKnowledge({"refund": [second, REFUNDS]}))
    # Then both chunks were given to the model, and the article is one source at 0.82
    assert second.text in runtime.sent(None)[0]["messages"][0]["content"][0]["text"]
    assert [(s.uri, s.score) for s in event.sources] == [(REFUNDS.uri, 0.82)]
