"""The offline Retrieve and SearchRelevantContent wire shapes, read through raw boto3 clients."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration.knowledge.conftest import APPLICATION_ID, KNOWLEDGE_BASE_ID, RETRIEVER_ID

pytestmark = pytest.mark.integration


def agent_runtime() -> Any:
    return boto3.client("bedrock-agent-runtime")


def qbusiness() -> Any:
    return boto3.client("qbusiness")


def retrieve(question: str, results: int, **extra: Any) -> dict[str, Any]:
    config = {"vectorSearchConfiguration": {"numberOfResults": results}}
    response: dict[str, Any] = agent_runtime().retrieve(
        knowledgeBaseId=KNOWLEDGE_BASE_ID, retrievalQuery={"text": question}, retrievalConfiguration=config, **extra
    )
    return response


def test_retrieve_results_carry_text_location_score_and_metadata() -> None:
    # When the knowledge base is asked about a lost parcel
    response = retrieve("My parcel never arrived, the tracking has not moved for a week", 4)
    # Then each result has Retrieve's shape, the best one from the lost-parcel page
    results = response["retrievalResults"]
    assert len(results) == 4
    best = results[0]
    assert best["content"]["type"] == "TEXT" and best["content"]["text"]
    assert best["location"] == {"type": "WEB", "webLocation": {"url": "https://help.example.com/delivery/lost-parcel"}}
    assert 0.0 <= best["score"] <= 1.0
    assert best["metadata"]["x-amz-bedrock-kb-source-uri"] == best["location"]["webLocation"]["url"]
    assert best["metadata"]["x-amz-bedrock-kb-chunk-id"].startswith("delivery-lost-parcel#")
    assert "nextToken" in response


def test_bitext_derived_articles_are_s3_locations() -> None:
    response = retrieve("cancel order support answer: Order History, Cancel button", 20)
    locations = [r["location"] for r in response["retrievalResults"]]
    s3 = [loc for loc in locations if loc["type"] == "S3"]
    assert s3 and all(loc["s3Location"]["uri"].startswith("s3://supportflow-knowledge/bitext/") for loc in s3)


def test_next_token_of_another_question_is_rejected() -> None:
    token = retrieve("refund timelines", 1)["nextToken"]
    with pytest.raises(ClientError) as caught:
        retrieve("delivery options", 1, nextToken=token)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_last_page_has_no_next_token() -> None:
    first = retrieve("payment methods", 60)
    second = retrieve("payment methods", 60, nextToken=first["nextToken"])
    assert len(first["retrievalResults"]) + len(second["retrievalResults"]) == 100
    assert "nextToken" not in second


def test_malformed_knowledge_base_id_is_a_validation_error() -> None:
    # 10 characters (botocore checks the length) but not alphanumeric: the server checks the pattern
    with pytest.raises(ClientError) as caught:
        agent_runtime().retrieve(knowledgeBaseId="kb-1234567", retrievalQuery={"text": "refund"})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def search(question: str, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = qbusiness().search_relevant_content(
        applicationId=APPLICATION_ID,
        queryText=question,
        contentSource={"retriever": {"retrieverId": RETRIEVER_ID}},
        **extra,
    )
    return response


def test_relevant_content_has_documents_attributes_and_confidence() -> None:
    response = search("how do I reset my password?", maxResults=3)
    items = response["relevantContent"]
    assert len(items) == 3
    best = items[0]
    assert best["documentId"] == "account-password-recovery"
    assert best["documentTitle"] == "Forgot your password? Recovering access"
    assert best["documentUri"] == "https://help.example.com/account/password-recovery"
    assert best["scoreAttributes"]["scoreConfidence"] in {"VERY_HIGH", "HIGH"}
    attributes = {a["name"]: a["value"]["stringValue"] for a in best["documentAttributes"]}
    assert attributes["_category"] == "ACCOUNT"


def test_off_topic_question_gets_low_confidence_only() -> None:
    items = search("Can you recommend a good pasta recipe?", maxResults=5)["relevantContent"]
    assert {item["scoreAttributes"]["scoreConfidence"] for item in items} == {"LOW"}


def test_attribute_filter_keeps_only_matching_documents() -> None:
    only_delivery = {"equalsTo": {"name": "_category", "value": {"stringValue": "DELIVERY"}}}
    items = search("refund", maxResults=10, attributeFilter=only_delivery)["relevantContent"]
    assert items
    assert all({"name": "_category", "value": {"stringValue": "DELIVERY"}} in i["documentAttributes"] for i in items)
