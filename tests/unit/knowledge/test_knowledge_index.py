"""Pure parts of the offline knowledge index and its wire helpers: articles, chunks, terms, tokens."""

from __future__ import annotations

import pytest

from supportflow.bedrock_offline.conversation import BedrockError
from supportflow.bedrock_offline.knowledge_build import clean_placeholders
from supportflow.bedrock_offline.knowledge_index import KnowledgeDataError, parse_article, split_chunks, terms
from supportflow.bedrock_offline.knowledge_ops import decode_token, encode_token, score_confidence

ARTICLE = """---
id: refund-windows
title: Refund windows
uri: https://help.example.com/refunds/windows
category: REFUND
---
First paragraph.

Second paragraph.
"""


def test_article_header_and_body_are_parsed() -> None:
    article = parse_article(ARTICLE)
    assert (article.id, article.title, article.category) == ("refund-windows", "Refund windows", "REFUND")
    assert article.text == "First paragraph.\n\nSecond paragraph."
    assert (article.source, article.licence) == ("supportflow", "Apache-2.0")


def test_article_without_uri_is_rejected() -> None:
    with pytest.raises(KnowledgeDataError, match="uri"):
        parse_article(ARTICLE.replace("uri: https://help.example.com/refunds/windows\n", ""))


def test_short_paragraphs_join_and_a_list_stays_with_its_introduction() -> None:
    long = "x" * 400
    text = f"{long}\n\nTo cancel, follow these steps:\n\n1. Open Order History.\n2. Select Cancel.\n\n{long}"
    chunks = split_chunks(text, max_chars=650)
    assert chunks == [long, "To cancel, follow these steps:\n1. Open Order History.\n2. Select Cancel.", long]


def test_terms_drop_stopwords_and_fold_endings() -> None:
    assert terms("How do I get my refunds? Charged twice!") == ["get", "refund", "charg", "twice"]


def test_placeholders_become_generic_wording_or_their_label() -> None:
    text = "Visit our {{Website Name}}, open {{Order History}} or call {{Customer Support Phone Number}}."
    assert clean_placeholders(text) == "Visit our website, open Order History or call our customer support phone line."


def test_next_token_round_trips_only_for_its_query() -> None:
    token = encode_token(5, "key-a")
    assert decode_token(token, "key-a") == 5
    assert decode_token(None, "key-a") == 0
    for bad_token, key in ((token, "key-b"), ("not-base64!", "key-a")):
        with pytest.raises(BedrockError) as caught:
            decode_token(bad_token, key)
        assert caught.value.error_type == "ValidationException"


@pytest.mark.parametrize(
    ("score", "band"), [(0.95, "VERY_HIGH"), (0.7, "HIGH"), (0.5, "MEDIUM"), (0.2, "LOW"), (0.0, "LOW")]
)
def test_scores_fall_into_q_business_confidence_bands(score: float, band: str) -> None:
    assert score_confidence(score) == band
