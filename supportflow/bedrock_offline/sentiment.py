"""Sentiment and urgency: cue lexicons, negation, and embedding prototypes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from supportflow.bedrock_offline.classify import softmax
from supportflow.bedrock_offline.embedding import Embedder

SENTIMENT_LABELS = ("very_negative", "negative", "neutral", "positive")


# --- lexicons: small on purpose; the embeddings carry the general case ---------------------------

_NEG_CUES: dict[str, float] = {
    "unacceptable": 0.9,
    "ridiculous": 0.8,
    "worst": 0.9,
    "terrible": 0.8,
    "horrible": 0.8,
    "awful": 0.8,
    "furious": 0.9,
    "angry": 0.7,
    "disgusted": 0.8,
    "scam": 0.9,
    "fraud": 0.7,
    "never again": 0.8,
    "third time": 0.7,
    "fourth time": 0.8,
    "again and again": 0.6,
    "still not": 0.5,
    "still haven't": 0.5,
    "still no": 0.5,
    "still waiting": 0.5,
    "nobody": 0.4,
    "no one": 0.4,
    "disappointed": 0.6,
    "frustrated": 0.6,
    "frustrating": 0.6,
    "annoyed": 0.5,
    "useless": 0.7,
    "waste": 0.5,
    "broken": 0.4,
    "damaged": 0.4,
    "wrong": 0.3,
    "lawyer": 0.7,
    "sue": 0.6,
    "chargeback": 0.6,
    "complaint": 0.4,
    "not happy": 0.6,
    "unhappy": 0.6,
    "fed up": 0.7,
    "sick of": 0.7,
    "incompetent": 0.8,
    "pathetic": 0.8,
    "inakzeptabel": 0.9,
    "inaceptable": 0.9,
    "inacceptable": 0.9,
    "enttäuscht": 0.6,
    "decepcionado": 0.6,
    "déçu": 0.6,
    "最悪": 0.9,
    "ひどい": 0.8,
}
_POS_CUES: dict[str, float] = {
    "thanks so much": 0.8,
    "thank you so much": 0.8,
    "thanks a lot": 0.6,
    "many thanks": 0.5,
    "really appreciate": 0.7,
    "appreciate": 0.4,
    "great": 0.5,
    "excellent": 0.8,
    "amazing": 0.8,
    "awesome": 0.7,
    "love": 0.6,
    "perfect": 0.6,
    "wonderful": 0.7,
    "fantastic": 0.8,
    "very happy": 0.7,
    "so happy": 0.7,
    "very helpful": 0.6,
    "quick": 0.3,
    "resolved": 0.3,
    "gracias": 0.3,
    "merci": 0.3,
    "danke": 0.3,
    "ありがとう": 0.4,
}
# Weak on purpose: "thanks" closes most neutral support mails.
_WEAK_POS: dict[str, float] = {"thanks": 0.15, "thank you": 0.15, "please": 0.0}
_NEGATORS = ("not ", "n't ", "never ", "no ")

_URGENCY_CUES: dict[str, float] = {
    "urgent": 1.0,
    "urgently": 1.0,
    "asap": 1.0,
    "as soon as possible": 0.8,
    "immediately": 0.9,
    "right now": 0.8,
    "right away": 0.8,
    "emergency": 1.0,
    "critical": 0.8,
    "today": 0.4,
    "tonight": 0.5,
    "deadline": 0.6,
    "third time": 0.7,
    "fourth time": 0.8,
    "still waiting": 0.6,
    "still not": 0.5,
    "weeks": 0.4,
    "locked out": 0.8,
    "can't log in": 0.6,
    "cannot log in": 0.6,
    "can't access": 0.6,
    "cannot access": 0.6,
    "hacked": 1.0,
    "unauthorized": 0.9,
    "unauthorised": 0.9,
    "fraud": 0.9,
    "charged twice": 0.8,
    "double charged": 0.8,
    "lawyer": 0.9,
    "legal action": 1.0,
    "chargeback": 0.8,
    "outage": 0.9,
    "down for": 0.6,
    "data loss": 0.9,
    "security": 0.5,
    "cancel my account": 0.5,
    "dringend": 1.0,
    "urgente": 1.0,
    "至急": 1.0,
}

_SENTIMENT_PROTOTYPES: dict[str, list[str]] = {
    "very_negative": [
        "This is absolutely unacceptable, I am furious and will never buy from you again.",
        "Worst service ever, this is the third time I ask and nobody helps me.",
        "I am extremely angry, you are incompetent and I want my money back now.",
    ],
    "negative": [
        "I am disappointed, my order arrived late and damaged.",
        "The product does not work and I am not happy with it.",
        "I have been waiting for a week and still have no answer.",
    ],
    "neutral": [
        "I would like to know how to change my shipping address.",
        "Can you tell me the status of my order?",
        "How do I update my payment method?",
    ],
    "positive": [
        "Thank you so much, the support was excellent and fast.",
        "I love the product, great job and thanks for the quick help.",
        "Everything arrived on time, I am very happy with the service.",
    ],
}
_SENTIMENT_VALUE = {"very_negative": -1.0, "negative": -0.5, "neutral": 0.0, "positive": 0.8}


@dataclass(frozen=True)
class Sentiment:
    """Sentiment label, score in [-1, 1] and the cues that moved it."""

    label: str
    score: float
    cues: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Urgency:
    """Urgency level (high/normal/low), a 0..1 score and the cues found."""

    level: str
    score: float
    cues: list[str] = field(default_factory=list)


def find_cues(text: str, lexicon: dict[str, float]) -> list[tuple[str, float]]:
    """The lexicon's cues found in ``text`` with their weights, negated ("not great") flipped."""
    low = text.lower()
    hits = []
    for cue, weight in lexicon.items():
        pattern = r"(?<!\w)" + re.escape(cue) + r"(?!\w)" if cue.isascii() else re.escape(cue)
        for match in re.finditer(pattern, low):
            # "not happy" is a negative cue of its own; "not great" flips "great".
            before = low[max(0, match.start() - 6) : match.start()]
            negated = any(before.endswith(neg) for neg in _NEGATORS)
            hits.append((cue, -weight if negated else weight))
            break
    return hits


class SentimentReader:
    """Sentiment and urgency of a text: embedding prototypes blended with cue lexicons."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        names = list(_SENTIMENT_PROTOTYPES)
        vecs = [embedder.embed(_SENTIMENT_PROTOTYPES[name]).mean(axis=0) for name in names]
        self._centroids = np.vstack([v / np.linalg.norm(v) for v in vecs])
        self._names = names

    def sentiment(self, text: str) -> Sentiment:
        """Sentiment from embedding prototypes blended with a cue lexicon."""
        query = self.embedder.embed([text])[0]
        sims = self._centroids @ query
        probs = softmax(sims, 0.01)
        emb_score = float(sum(p * _SENTIMENT_VALUE[n] for p, n in zip(probs, self._names, strict=True)))
        neg = find_cues(text, _NEG_CUES)
        pos = find_cues(text, _POS_CUES) + find_cues(text, _WEAK_POS)
        lex = sum(w for _, w in pos) - sum(w for _, w in neg)
        exclaim = min(text.count("!"), 3) * 0.05 if lex < 0 else 0.0
        caps = 0.1 if sum(1 for w in text.split() if len(w) > 3 and w.isupper()) >= 2 else 0.0
        score = 0.5 * emb_score + 0.6 * float(np.tanh(lex)) - exclaim - caps
        score = max(-1.0, min(1.0, score))
        if score <= -0.75:
            label = "very_negative"
        elif score <= -0.25:
            label = "negative"
        elif score < 0.3:
            label = "neutral"
        else:
            label = "positive"
        cues = [cue for cue, _ in neg + pos if cue not in _WEAK_POS]
        return Sentiment(label, round(score, 3), cues)

    def urgency(self, text: str, sentiment: Sentiment | None = None) -> Urgency:
        """Urgency from cues, sharpened by very negative sentiment."""
        hits = [(cue, w) for cue, w in find_cues(text, _URGENCY_CUES) if w > 0]
        score = 1.0 - float(np.prod([1.0 - w for _, w in hits])) if hits else 0.0
        sent = sentiment or self.sentiment(text)
        if sent.label == "very_negative":
            score = max(score, 0.6)
        level = "high" if score >= 0.6 else ("normal" if score >= 0.2 or sent.score < -0.2 else "low")
        return Urgency(level, round(score, 3), [cue for cue, _ in hits])
