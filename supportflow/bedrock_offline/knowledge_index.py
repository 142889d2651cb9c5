"""The local knowledge index behind the offline Retrieve and SearchRelevantContent: chunks, vectors, scores.

Articles live in ``data/knowledge/articles/*.md`` (a small header, then paragraphs); each is cut into chunks
of a few sentences. A chunk's score blends the e5 cosine (calibrated to [0, 1]) with a BM25 score, so an
unrelated question scores low instead of getting the nearest chunk at a confident-looking 0.8.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from supportflow.bedrock_offline.bank import DATA_DIR
from supportflow.bedrock_offline.vector_files import (
    Matrix,
    cache_dir,
    model_identity,
    read_shipped,
    save_atomically,
    texts_digest,
)

if TYPE_CHECKING:
    from supportflow.bedrock_offline.embedding import Embedder

log = logging.getLogger(__name__)

KNOWLEDGE_DIR = DATA_DIR / "knowledge"
ARTICLES_DIR = KNOWLEDGE_DIR / "articles"
MANIFEST = KNOWLEDGE_DIR / "manifest.json"
VECTORS_FILE = KNOWLEDGE_DIR / "chunk-vectors.f16.npy"

CHUNK_MAX_CHARS = 650
# e5 cosines of support text sit in a narrow band: below LOW nothing is related, above HIGH it is on topic.
DENSE_LOW, DENSE_HIGH = 0.78, 0.90
DENSE_WEIGHT = 0.7
BM25_K1, BM25_B = 1.2, 0.75
BM25_HALF = 6.0  # the BM25 score that counts as half relevant

_HEADER = re.compile(r"\A---\n(?P<head>.*?)\n---\n", re.S)
_WORD = re.compile(r"\w+", re.U)
_STOPWORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "have"),
        *("how", "i", "if", "in", "is", "it", "me", "my", "of", "on", "or", "our", "please", "the", "this"),
        *("that", "to", "was", "we", "what", "when", "where", "which", "will", "with", "you", "your"),
    }
)


class KnowledgeDataError(ValueError):
    """An article file or the manifest is malformed."""


@dataclass(frozen=True)
class Article:
    """One article of the knowledge base."""

    id: str
    title: str
    uri: str
    category: str
    text: str
    source: str = "supportflow"
    licence: str = "Apache-2.0"


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: what Retrieve and SearchRelevantContent return."""

    article: Article
    index: int
    text: str

    @property
    def chunk_id(self) -> str:
        """Stable id of the chunk within the knowledge base."""
        return f"{self.article.id}#{self.index}"


@dataclass(frozen=True)
class Hit:
    """A chunk with its blended score in [0, 1] and the two parts it came from."""

    chunk: Chunk
    score: float
    dense: float
    lexical: float


def parse_article(raw: str) -> Article:
    """An article from its file text: ``---`` header lines ``key: value``, then the body."""
    match = _HEADER.match(raw)
    if match is None:
        raise KnowledgeDataError("article has no --- header")
    fields = dict(line.split(": ", 1) for line in match.group("head").splitlines() if ": " in line)
    missing = {"id", "title", "uri", "category"} - set(fields)
    if missing:
        raise KnowledgeDataError(f"article header lacks {sorted(missing)}")
    return Article(
        id=fields["id"],
        title=fields["title"],
        uri=fields["uri"],
        category=fields["category"],
        text=raw[match.end() :].strip(),
        source=fields.get("source", "supportflow"),
        licence=fields.get("licence", "Apache-2.0"),
    )


def load_articles(directory: Path = KNOWLEDGE_DIR) -> list[Article]:
    """The articles the manifest lists, each checked against its SHA-256."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    articles = []
    for entry in manifest["articles"]:
        raw = (directory / entry["file"]).read_text(encoding="utf-8")
        if hashlib.sha256(raw.encode()).hexdigest() != entry["sha256"]:
            raise KnowledgeDataError(f"{entry['file']} changed since the manifest was written")
        articles.append(parse_article(raw))
    return articles


def split_chunks(text: str, max_chars: int = CHUNK_MAX_CHARS) -> list[str]:
    """Paragraphs joined up to ``max_chars``; a list stays with the sentence that introduces it."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks: list[str] = []
    for paragraph in paragraphs:
        joins_list = chunks and (chunks[-1].endswith(":") or re.match(r"\d+\.|[-*] ", paragraph))
        if chunks and (joins_list or len(chunks[-1]) + len(paragraph) + 1 <= max_chars // 2):
            chunks[-1] = f"{chunks[-1]}\n{paragraph}"
        else:
            chunks.append(paragraph)
    return chunks


def article_chunks(articles: list[Article]) -> list[Chunk]:
    """Every chunk of every article, in manifest order."""
    return [Chunk(a, i, text) for a in articles for i, text in enumerate(split_chunks(a.text))]


def chunk_texts(articles: list[Article]) -> list[str]:
    """What is embedded per chunk: the article title, then the chunk."""
    return [f"{c.article.title}. {c.text}" for c in article_chunks(articles)]


def terms(text: str) -> list[str]:
    """Lower-cased words without stopwords, with a light plural/verb-ending fold."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or len(word) < 2:
            continue
        suffix = next((s for s in ("ing", "ed", "es", "s") if len(word) > len(s) + 3 and word.endswith(s)), "")
        out.append(word[: len(word) - len(suffix)])
    return out


class Bm25:
    """Okapi BM25 over the chunks' terms."""

    def __init__(self, documents: list[list[str]]) -> None:
        self.lengths = np.array([len(d) for d in documents], dtype=np.float32)
        self.average = float(self.lengths.mean()) if documents else 1.0
        self.frequencies = [Counter(d) for d in documents]
        counts: Counter[str] = Counter(t for d in documents for t in set(d))
        total = len(documents)
        self.idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in counts.items()}

    def scores(self, query: list[str]) -> Matrix:
        """BM25 of every document for ``query``."""
        out = np.zeros(len(self.frequencies), dtype=np.float32)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lengths / self.average)
        for term in set(query):
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([f.get(term, 0) for f in self.frequencies], dtype=np.float32)
            out += idf * tf * (BM25_K1 + 1) / (tf + norm)
        return out


class KnowledgeIndex:
    """The shipped knowledge base, embedded and searchable; read-only, safe to share across threads."""

    def __init__(self, embedder: Embedder, directory: Path = KNOWLEDGE_DIR) -> None:
        self.embedder = embedder
        self.articles = load_articles(directory)
        self.chunks = article_chunks(self.articles)
        texts = chunk_texts(self.articles)
        self.vectors = self._vectors(texts, directory / VECTORS_FILE.name)
        self.bm25 = Bm25([terms(text) for text in texts])

    def _vectors(self, texts: list[str], shipped: Path) -> Matrix:
        model = model_identity()
        digest = texts_digest(texts, model)
        vectors = read_shipped(shipped, digest, len(texts))
        cached = cache_dir() / f"knowledge-{digest}.npy"
        if vectors is None and cached.exists():
            vectors = np.load(cached)
        if vectors is None or vectors.shape[0] != len(texts):
            log.info("embedding the knowledge base once", extra={"chunks": len(texts)})
            vectors = self.embedder.embed_many(texts)
            save_atomically(cached, vectors)
        return vectors

    def search(self, query: str, top: int = 100) -> list[Hit]:
        """The ``top`` chunks by blended score, best first (ties by manifest order)."""
        cosines = self.vectors @ self.embedder.embed([query])[0]
        dense = np.clip((cosines - DENSE_LOW) / (DENSE_HIGH - DENSE_LOW), 0.0, 1.0)
        query_terms = terms(query)
        raw = self.bm25.scores(query_terms)
        lexical = raw / (raw + BM25_HALF)
        # Words the articles never use (another language, another topic) say nothing either way: the
        # lexical part weighs only as much as the share of the query's words the knowledge base knows.
        known = sum(t in self.bm25.idf for t in query_terms) / len(query_terms) if query_terms else 0.0
        lexical_weight = (1 - DENSE_WEIGHT) * known
        blended = (1 - lexical_weight) * dense + lexical_weight * lexical
        order = np.argsort(-blended, kind="stable")[:top]
        return [
            Hit(self.chunks[i], round(float(blended[i]), 4), float(dense[i]), float(lexical[i])) for i in order.tolist()
        ]
