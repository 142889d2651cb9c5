"""Both knowledge adapters against the offline server through unmodified boto3 (endpoints from the environment)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from supportflow.bedrock_offline.server import OfflineBedrock
from tests.integration.knowledge.conftest import APPLICATION_ID, KNOWLEDGE_BASE_ID, RETRIEVER_ID
from workers.shared.knowledge import (
    GROUNDED_MIN_SCORE,
    BedrockKnowledgeBase,
    KnowledgeQueryInvalid,
    KnowledgeSettings,
    KnowledgeSource,
    KnowledgeSourceNotFound,
    KnowledgeThrottled,
    QBusinessKnowledge,
    build_knowledge_source,
)

pytestmark = pytest.mark.integration

REFUND_QUESTION = "How long does it take until my refund reaches my card?"
OFF_TOPIC_QUESTION = "What is the capital of Australia?"


def bedrock_kb(page_size: int = 100) -> BedrockKnowledgeBase:
    return BedrockKnowledgeBase(KNOWLEDGE_BASE_ID, page_size=page_size)


def q_business(page_size: int = 100) -> QBusinessKnowledge:
    return QBusinessKnowledge(APPLICATION_ID, RETRIEVER_ID, page_size=page_size)


SOURCES: dict[str, Callable[..., KnowledgeSource]] = {"bedrock-kb": bedrock_kb, "q-business": q_business}


@pytest.mark.parametrize("name", SOURCES)
def test_refund_question_retrieves_a_refund_article_first(name: str) -> None:
    # Given the adapter the settings name, built with no endpoint in code
    source = SOURCES[name]()
    # When a customer asks about refund timing
    passages = source.retrieve(REFUND_QUESTION, max_results=3)
    # Then a refund article comes first, grounded, with its source and title
    assert len(passages) == 3
    best = passages[0]
    assert "/refunds/" in best.source_uri
    assert best.grounded and best.score >= GROUNDED_MIN_SCORE
    assert best.title
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


@pytest.mark.parametrize("name", SOURCES)
def test_question_the_knowledge_base_cannot_answer_scores_low(name: str) -> None:
    # Given the shipped knowledge base, which says nothing about geography
    source = SOURCES[name]()
    # When asked an off-topic question
    passages = source.retrieve(OFF_TOPIC_QUESTION, max_results=5)
    # Then passages come back, but none is relevant enough to ground an answer
    assert passages
    assert all(not p.grounded for p in passages)


@pytest.mark.parametrize("name", SOURCES)
def test_pages_are_followed_through_next_token(name: str, server: OfflineBedrock) -> None:
    # Given an adapter that asks for two results per page
    paged = SOURCES[name](page_size=2)
    operation = "Retrieve" if name == "bedrock-kb" else "SearchRelevantContent"
    # When five passages are wanted
    passages = paged.retrieve("I was charged twice for my order", max_results=5)
    # Then three calls were made, and the pages join into the same ranking one call gives
    assert server.request_count(operation=operation) == 3
    single = SOURCES[name]().retrieve("I was charged twice for my order", max_results=5)
    assert [(p.document_id, p.text) for p in passages] == [(p.document_id, p.text) for p in single]
    assert "double-charge" in passages[0].source_uri


@pytest.mark.parametrize("name", SOURCES)
def test_a_question_in_spanish_finds_the_refund_timelines(name: str) -> None:
    # Given a multilingual embedder behind the index
    source = SOURCES[name]()
    # When the customer asks in Spanish
    passages = source.retrieve("¿Cuánto tarda en llegar mi reembolso?", max_results=3)
    # Then a refund article is among the first results
    assert any("refund" in p.source_uri for p in passages)


def test_unknown_knowledge_base_raises_not_found() -> None:
    # Given a knowledge base id the offline server documents as missing
    source = BedrockKnowledgeBase("missingKB0")
    # When / Then the port's named exception is raised, carrying the AWS error code
    with pytest.raises(KnowledgeSourceNotFound) as caught:
        source.retrieve(REFUND_QUESTION)
    assert caught.value.code == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("application_id", "retriever_id"),
    [("missing0-0000-4000-8000-000000000000", RETRIEVER_ID), (APPLICATION_ID, "missing0-0000-4000-8000-000000000000")],
)
def test_unknown_application_or_retriever_raises_not_found(application_id: str, retriever_id: str) -> None:
    source = QBusinessKnowledge(application_id, retriever_id)
    with pytest.raises(KnowledgeSourceNotFound):
        source.retrieve(REFUND_QUESTION)


@pytest.mark.parametrize("name", SOURCES)
def test_empty_question_raises_query_invalid(name: str) -> None:
    source = SOURCES[name]()
    with pytest.raises(KnowledgeQueryInvalid) as caught:
        source.retrieve("   ")
    assert caught.value.code == "ValidationException"


@pytest.mark.parametrize(("name", "operation"), [("bedrock-kb", "Retrieve"), ("q-business", "SearchRelevantContent")])
def test_throttling_is_retried_by_botocore_then_raised(name: str, operation: str, server: OfflineBedrock) -> None:
    # Given a fault rule that throttles every call of the operation
    server.faults.add({"fault": "throttle", "operation": operation})
    # When the adapter retrieves
    with pytest.raises(KnowledgeThrottled):
        SOURCES[name]().retrieve(REFUND_QUESTION)
    # Then botocore tried four times in all (the shared retry configuration) before the port raised
    assert server.request_count(operation=operation) == 4


def test_a_transient_throttle_is_absorbed_by_retries(server: OfflineBedrock) -> None:
    server.faults.add({"fault": "throttle", "operation": "Retrieve", "first": 2})
    passages = bedrock_kb().retrieve(REFUND_QUESTION, max_results=1)
    assert len(passages) == 1
    assert server.request_count(operation="Retrieve") == 3


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"KNOWLEDGE_SOURCE": "bedrock-kb", "KNOWLEDGE_BASE_ID": KNOWLEDGE_BASE_ID}, BedrockKnowledgeBase),
        (
            {
                "KNOWLEDGE_SOURCE": "q-business",
                "QBUSINESS_APPLICATION_ID": APPLICATION_ID,
                "QBUSINESS_RETRIEVER_ID": RETRIEVER_ID,
            },
            QBusinessKnowledge,
        ),
    ],
)
def test_settings_from_the_environment_choose_a_working_adapter(
    environment: dict[str, str], expected: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the environment the template sets
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    # When the composition root builds the source
    source: KnowledgeSource = build_knowledge_source(KnowledgeSettings())
    # Then it is the named adapter and it answers
    assert isinstance(source, expected)
    assert source.retrieve(REFUND_QUESTION, max_results=1)[0].grounded
