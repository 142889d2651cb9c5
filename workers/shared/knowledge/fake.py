"""An in-memory KnowledgeSource for unit tests: ranks its passages by word overlap with the question."""

from __future__ import annotations

import re
from collections.abc import Iterable

from workers.shared.knowledge.ports import KnowledgeError, KnowledgeQueryInvalid, Passage

_WORD = re.compile(r"\w+", re.U)
_STOPWORDS = frozenset({"a", "an", "and", "do", "how", "i", "is", "it", "my", "of", "the", "to", "what", "you"})


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


class InMemoryKnowledgeSource:
    """Documents scored by the share of the question's words they contain; records every query."""

    def __init__(self, documents: Iterable[Passage] = (), fail_with: KnowledgeError | None = None) -> None:
        self.documents = list(documents)
        self.fail_with = fail_with
        self.queries: list[str] = []

    def retrieve(self, query: str, max_results: int = 5) -> list[Passage]:
        """The documents sharing words with ``query``, best first, scored by overlap in [0, 1]."""
        self.queries.append(query)
        if self.fail_with is not None:
            raise self.fail_with
        asked = _words(query)
        if not asked:
            raise KnowledgeQueryInvalid("query is empty", code="ValidationException")
        scored = []
        for order, document in enumerate(self.documents):
            overlap = len(asked & _words(f"{document.title} {document.text}")) / len(asked)
            if overlap > 0:
                scored.append((-overlap, order, document.model_copy(update={"score": round(overlap, 4)})))
        return [passage for _, _, passage in sorted(scored, key=lambda row: row[:2])[:max_results]]
