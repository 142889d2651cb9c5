"""The offline model as one object: embeddings, the few-shot bank, labels, sentiment and retrieval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from supportflow.bedrock_offline.bank import SHIPPED_PROMPTS, SOURCES, Bank, load_bank
from supportflow.bedrock_offline.classify import Classification, classify
from supportflow.bedrock_offline.embedding import Embedder
from supportflow.bedrock_offline.labels import label_prompts, normalise_label
from supportflow.bedrock_offline.sentiment import Sentiment, SentimentReader, Urgency
from supportflow.bedrock_offline.vector_files import model_identity


class Brain:
    """Everything the offline model knows; one instance per server, safe to share across threads."""

    def __init__(self, embedder: Embedder | None = None, use_bank: bool = True) -> None:
        self.embedder = embedder or Embedder()
        self.bank: Bank | None = load_bank(self.embedder.embed_many) if use_bank else None
        if self.bank is not None:
            model = model_identity()
            for source in SOURCES:
                start, stop = self.bank.spans.get(source.name, (0, 0))
                labels = source.labels(self.bank.examples[start:stop])
                if labels:
                    prompts = [p for label in labels for p in label_prompts(label, None)]
                    self.embedder.preload(prompts, SHIPPED_PROMPTS.get(source.name), model)
        self.reader = SentimentReader(self.embedder)

    def classify(
        self,
        text: str,
        labels: Sequence[str],
        descriptions: dict[str, str] | None = None,
        use_bank: bool = True,
    ) -> Classification:
        """Pick one of ``labels`` for ``text``: zero-shot on names/descriptions, plus kNN from the bank."""
        return classify(self.embedder, self.bank if use_bank else None, text, labels, descriptions)

    def category_of(self, intent: str) -> str | None:
        """Bitext category of a known intent, else None (also for banking77 intents, which have none)."""
        if self.bank is None:
            return None
        return self.bank.category_of_intent.get(normalise_label(intent)) or None

    def known_intents(self) -> list[str]:
        """The default support intents (the primary source, Bitext) — the label set for untyped text.

        Other sources (banking77) answer only when a caller offers their labels; empty without a bank.
        """
        return self.bank.intents_of(SOURCES[0].name) if self.bank is not None else []

    # --- sentiment and urgency -------------------------------------------------------------------

    def sentiment(self, text: str) -> Sentiment:
        """Sentiment label, score and cues of ``text``."""
        return self.reader.sentiment(text)

    def urgency(self, text: str, sentiment: Sentiment | None = None) -> Urgency:
        """Urgency level, score and cues of ``text``."""
        return self.reader.urgency(text, sentiment)

    # --- retrieval -------------------------------------------------------------------------------

    def rank_sentences(self, query: str, sentences: Sequence[str], top: int = 2) -> list[str]:
        """The ``top`` sentences most similar to ``query``, in their original order."""
        if not sentences:
            return []
        sims = self.embedder.embed(list(sentences)) @ self.embedder.embed([query])[0]
        best = sorted(np.argsort(-sims, kind="stable")[:top].tolist())
        return [sentences[i] for i in best]
