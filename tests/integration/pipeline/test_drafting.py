"""Drafting on the offline Bedrock through unmodified boto3: the chain's three steps answered by computation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from supportflow.bedrock_offline.server import OfflineBedrock
from workers.drafting.bedrock import BedrockDraftingModel
from workers.drafting.ports import DraftRequest, Passage, QuestionContext, TicketText
from workers.shared.bedrock import BedrockClient, NullMetrics, NullTracer

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

pytestmark = pytest.mark.integration

REFUND = Passage(
    text="Duplicate charges are refunded to the original card within 5 business days. "
    "You do not need to send a new request once the charge is reported.",
    uri="kb://payments/duplicate-charges",
    title="Duplicate charges",
    score=0.8,
)
DELIVERY = Passage(
    text="Standard delivery takes 3 to 5 business days. Express delivery arrives the next business day.",
    uri="kb://delivery/times",
    title="Delivery times",
    score=0.7,
)
TICKET = TicketText(
    subject="Charged twice",
    body="I was charged twice for order #A-10023 (49.90 EUR). How do I get the second payment back? "
    "Also, can I pay with crypto next time?",
    language="en",
)


@pytest.fixture(scope="module")
def model(offline_bedrock: OfflineBedrock) -> BedrockDraftingModel:
    runtime: BedrockRuntimeClient = boto3.client("bedrock-runtime", endpoint_url=offline_bedrock.url)
    return BedrockDraftingModel(BedrockClient(runtime, metrics=NullMetrics(), tracer=NullTracer()))


def test_extraction_finds_the_customers_questions_and_facts(model: BedrockDraftingModel) -> None:
    # Given a ticket with two questions, an order number and an amount / When the model extracts
    step = model.extract(TICKET)
    # Then both questions and the facts are read from the ticket text
    assert step.output.questions == (
        "How do I get the second payment back?",
        "Also, can I pay with crypto next time?",
    )
    assert step.output.facts["Order Number"] == "A-10023"
    assert step.usage.input_tokens > 0


def test_the_draft_uses_the_passages_and_defers_what_none_answers(model: BedrockDraftingModel) -> None:
    # Given one question with its passages and one with none
    request = DraftRequest(
        ticket=TICKET,
        questions=(
            QuestionContext("How do I get the second payment back?", (REFUND, DELIVERY)),
            QuestionContext("Can I pay with crypto?", ()),
        ),
        facts={},
    )
    # When the model drafts
    reply = model.draft(request).output
    # Then it quotes the refund passage, not the delivery one, and hands the other question to an agent
    assert "refunded to the original card within 5 business days" in reply
    assert "Express delivery" not in reply
    assert "will follow up personally on this question: Can I pay with crypto?" in reply


def test_the_draft_is_in_the_customers_language(model: BedrockDraftingModel) -> None:
    # Given a Spanish ticket whose question has no passage
    ticket = TicketText(subject="", body="¿Puedo pagar con criptomonedas?", language="es")
    request = DraftRequest(ticket=ticket, questions=(QuestionContext("¿Puedo pagar con criptomonedas?", ()),), facts={})
    # When the model drafts / Then the frame of the reply is Spanish
    reply = model.draft(request).output
    assert reply.startswith("Hola,") and "Un miembro de nuestro equipo" in reply


def test_the_self_check_computes_support_per_claim(model: BedrockDraftingModel) -> None:
    # Given a draft with a passage sentence, a close restatement and an invented claim
    draft = (
        "Hello, Thank you for contacting us. "
        "Duplicate charges are refunded to the original card within 5 business days. "
        "Duplicate charges go back to your original card within 5 business days. "
        "We will also give you a 50% discount voucher on your next purchase. "
        "Best regards, Customer Support"
    )
    # When the model checks it against the refund passage
    claims = model.check(draft, (REFUND,)).output
    # Then greetings are not claims, the two refund sentences are supported by the article, the voucher is not
    verdicts = {c.text: (c.supported, c.source) for c in claims}
    assert verdicts == {
        "Duplicate charges are refunded to the original card within 5 business days.": (True, REFUND.uri),
        "Duplicate charges go back to your original card within 5 business days.": (True, REFUND.uri),
        "We will also give you a 50% discount voucher on your next purchase.": (False, None),
    }


def test_a_redraft_leaves_out_the_claims_named_unsupported(model: BedrockDraftingModel) -> None:
    # Given feedback naming the passage's first sentence as unsupported
    first = "Duplicate charges are refunded to the original card within 5 business days."
    request = DraftRequest(
        ticket=TICKET,
        questions=(QuestionContext("How do I get the second payment back?", (REFUND,)),),
        facts={},
        unsupported_feedback=(first,),
    )
    # When the model redrafts / Then that sentence is gone
    assert first not in model.draft(request).output
