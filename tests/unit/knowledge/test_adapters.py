"""Adapter mapping, error translation, settings and the in-memory fake, without any network."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import ValidationError

from workers.shared.knowledge import (
    GROUNDED_MIN_SCORE,
    BedrockKnowledgeBase,
    InMemoryKnowledgeSource,
    KnowledgeAccessDenied,
    KnowledgeQueryInvalid,
    KnowledgeSettings,
    KnowledgeSourceNotFound,
    KnowledgeThrottled,
    KnowledgeUnavailable,
    Passage,
    QBusinessKnowledge,
    bedrock_kb,
    build_knowledge_source,
    qbusiness,
)
from workers.shared.knowledge.errors import translate


def client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "Retrieve")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ResourceNotFoundException", 404, KnowledgeSourceNotFound),
        ("ValidationException", 400, KnowledgeQueryInvalid),
        ("AccessDeniedException", 403, KnowledgeAccessDenied),
        ("ThrottlingException", 429, KnowledgeThrottled),
        ("DependencyFailedException", 424, KnowledgeUnavailable),
        ("InternalServerException", 500, KnowledgeUnavailable),
    ],
)
def test_botocore_errors_become_port_exceptions_by_code(code: str, status: int, expected: type) -> None:
    error = translate(client_error(code, status))
    assert type(error) is expected
    assert error.code == code


def test_a_connection_failure_is_unavailable() -> None:
    error = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert isinstance(error, KnowledgeUnavailable)


def test_retrieve_result_maps_to_passage_from_s3_location() -> None:
    result = {
        "content": {"type": "TEXT", "text": "Refunds take 5 to 10 business days."},
        "location": {"type": "S3", "s3Location": {"uri": "s3://kb/refunds.md"}},
        "score": 1.3,
        "metadata": {"x-amz-bedrock-kb-chunk-id": "c-1"},
    }
    passage = bedrock_kb.to_passage(result)
    assert passage == Passage(
        text="Refunds take 5 to 10 business days.",
        source_uri="s3://kb/refunds.md",
        title="refunds.md",
        score=1.0,
        document_id="c-1",
    )


def test_retrieve_result_without_text_is_skipped() -> None:
    image = {
        "content": {"type": "IMAGE", "byteContent": "..."},
        "location": {"type": "S3", "s3Location": {"uri": "s3://x"}},
    }
    assert bedrock_kb.to_passage(image) is None


@pytest.mark.parametrize(
    ("confidence", "grounded"),
    [("VERY_HIGH", True), ("HIGH", True), ("MEDIUM", True), ("LOW", False), ("NOT_AVAILABLE", False)],
)
def test_q_business_confidence_bands_read_with_the_same_threshold(confidence: str, grounded: bool) -> None:
    item = {
        "content": "Cancel before packing for free.",
        "documentId": "cancel-order",
        "documentTitle": "Cancelling an order",
        "documentUri": "https://help.example.com/orders/cancel",
        "scoreAttributes": {"scoreConfidence": confidence},
    }
    passage = qbusiness.to_passage(item)
    assert passage is not None
    assert passage.grounded is grounded
    assert passage.title == "Cancelling an order"


def test_settings_require_the_ids_of_the_chosen_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_SOURCE", "q-business")
    monkeypatch.setenv("QBUSINESS_APPLICATION_ID", "a" * 36)
    monkeypatch.delenv("QBUSINESS_RETRIEVER_ID", raising=False)
    with pytest.raises(ValidationError, match="QBUSINESS_RETRIEVER_ID"):
        KnowledgeSettings()


def test_settings_reject_an_unknown_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_SOURCE", "kendra")
    with pytest.raises(ValidationError):
        KnowledgeSettings()


def test_factory_builds_the_named_adapter_around_an_injected_client() -> None:
    client = object()
    kb = build_knowledge_source(
        KnowledgeSettings(knowledge_source="bedrock-kb", knowledge_base_id="KB12345678"), client
    )
    q = build_knowledge_source(
        KnowledgeSettings(
            knowledge_source="q-business", qbusiness_application_id="a" * 36, qbusiness_retriever_id="r" * 36
        ),
        client,
    )
    assert isinstance(kb, BedrockKnowledgeBase) and kb.knowledge_base_id == "KB12345678"
    assert isinstance(q, QBusinessKnowledge) and q.retriever_id == "r" * 36


DOCUMENTS = [
    Passage(
        text="Refunds are paid to the original card within 10 days.",
        source_uri="kb://refunds",
        title="Refunds",
        score=0,
    ),
    Passage(
        text="Standard delivery takes 3 to 5 business days.", source_uri="kb://delivery", title="Delivery", score=0
    ),
]


def test_fake_ranks_by_overlap_and_scores_unrelated_questions_low() -> None:
    source = InMemoryKnowledgeSource(DOCUMENTS)
    refund = source.retrieve("When are refunds paid to my card?")
    assert refund[0].source_uri == "kb://refunds" and refund[0].score >= GROUNDED_MIN_SCORE
    assert source.retrieve("capital of Australia") == []
    assert source.queries == ["When are refunds paid to my card?", "capital of Australia"]


def test_fake_raises_what_it_is_told_and_rejects_empty_questions() -> None:
    with pytest.raises(KnowledgeQueryInvalid):
        InMemoryKnowledgeSource(DOCUMENTS).retrieve("  ")
    with pytest.raises(KnowledgeThrottled):
        InMemoryKnowledgeSource(DOCUMENTS, fail_with=KnowledgeThrottled("slow down")).retrieve("refund")
