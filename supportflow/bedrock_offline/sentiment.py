"""Sentiment and urgency: cue lexicons, negation, and embedding prototypes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from supportflow.bedrock_offline.classify import softmax
from supportflow.bedrock_offline.embedding import Embedder
from supportflow.bedrock_offline.sentiment_lexicon import NEG_CUES, NEGATORS, POS_CUES, URGENCY_CUES, WEAK_POS
from supportflow.bedrock_offline.sentiment_prototypes import SENTIMENT_PROTOTYPES

SENTIMENT_LABELS = ("very_negative", "negative", "neutral", "positive")


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
            negated = any(before.endswith(neg) for neg in NEGATORS)
            hits.append((cue, -weight if negated else weight))
            break
    return hits


@dataclass(frozen=True)
class SentimentWeights:
    """How the evidence is combined; defaults chosen on the dev set (``sentiment_eval``), never the test set."""

    temperature: float = 0.02  # softmax over per-class prototype similarity
    top_k: int = 3  # prototypes averaged per class
    embedding: float = 0.8  # weight of P(positive) - P(negative)
    lexicon: float = 0.6  # weight of tanh(cue sum)
    focus: float = 0.4  # share of the clause after a contrast ("but ...")
    request_damping: float = 0.5  # embedding evidence kept for questions/requests with no negative cue
    negative_at: float = -0.2
    positive_at: float = 0.3
    very_negative_at: float = -0.7
    severe_cue: float = 0.8  # a negative cue this strong ("furious", "unacceptable") can make it very negative
    severe_intensity: float = 0.15  # as can shouting or repetition ("!!!", capitals, "third time")


@dataclass(frozen=True)
class SentimentFeatures:
    """Per-text evidence, computed once (one or two embeddings) and combined by ``SentimentWeights``."""

    similarity: tuple[tuple[float, ...], ...]  # per text part (whole, focus clause): top-k per class
    negative_cues: tuple[tuple[str, float], ...]
    positive_cues: tuple[tuple[str, float], ...]
    intensity: float
    is_request: bool


_CLASSES = ("negative", "neutral", "positive")
# Contrast markers: what follows them usually carries the verdict ("nice design, but it broke").
_CONTRAST = re.compile(
    r"(?:,|;|\.)?\s+(?:but|however|though|although|yet|pero|sin embargo|mais|cependant|aber|jedoch|mas|porém|"
    r"ma|però|maar)\s+|(?:けど|けれど|が、|但是|不过)",
    re.I,
)
_REQUEST = re.compile(
    r"^\s*(?:hi|hello|hey|dear [^,]*|good (?:morning|afternoon|evening))?[,!. ]*"
    r"(?:how|what|when|where|which|who|why|can|could|would|will|do|does|is|are|may|please|i'?d like|"
    r"i would like|i want to|i need to|i'?m writing|kindly)\b",
    re.I,
)
_REPEAT = re.compile(r"\b(?:again|(?:second|third|fourth|fifth) time|\d+(?:st|nd|rd|th) time)\b", re.I)


def _intensity(text: str) -> float:
    """Shouting and repetition: exclamation runs, words in capitals, "again", "third time"."""
    score = min(text.count("!"), 3) * 0.05 + (0.1 if "?!" in text or "??" in text else 0.0)
    if sum(1 for w in text.split() if len(w) > 3 and w.isupper() and w.isalpha()) >= 1:
        score += 0.1
    if _REPEAT.search(text):
        score += 0.15
    return score


class SentimentReader:
    """Sentiment and urgency of a text: prototype similarity in e5 space blended with cue lexicons."""

    def __init__(self, embedder: Embedder, weights: SentimentWeights | None = None) -> None:
        self.embedder = embedder
        self.weights = weights or SentimentWeights()
        texts = [t for cls in _CLASSES for t in SENTIMENT_PROTOTYPES[cls]]
        embedder.preload(texts)
        vectors = embedder.embed(texts)
        owners = [cls for cls in _CLASSES for _ in SENTIMENT_PROTOTYPES[cls]]
        self._prototypes = {cls: vectors[[i for i, o in enumerate(owners) if o == cls]] for cls in _CLASSES}

    def features(self, text: str) -> SentimentFeatures:
        """The evidence about ``text``: prototype similarities, cues, intensity, request shape."""
        parts = [text]
        pieces = _CONTRAST.split(text)
        if len(pieces) > 1 and len(pieces[-1].strip()) > 8:
            parts.append(pieces[-1].strip())
        queries = self.embedder.embed(parts)
        similarity = tuple(
            tuple(float(np.sort(self._prototypes[cls] @ q)[-self.weights.top_k :].mean()) for cls in _CLASSES)
            for q in queries
        )
        focus = parts[-1]
        negative = [(c, w) for c, w in find_cues(text, NEG_CUES)]
        positive = [*find_cues(text, POS_CUES), *find_cues(text, WEAK_POS)]
        if len(parts) > 1:
            # Cues before the contrast count half: "great design, but it broke" is a complaint.
            before = text[: len(text) - len(focus)]
            negative = [(c, w * (0.5 if c in before.lower() and c not in focus.lower() else 1.0)) for c, w in negative]
            positive = [(c, w * (0.5 if c in before.lower() and c not in focus.lower() else 1.0)) for c, w in positive]
        return SentimentFeatures(
            similarity=similarity,
            negative_cues=tuple(negative),
            positive_cues=tuple(positive),
            intensity=_intensity(text),
            is_request=bool(_REQUEST.search(text)) or text.rstrip().endswith(("?", "\uff1f")),
        )

    def decide(self, features: SentimentFeatures, weights: SentimentWeights | None = None) -> Sentiment:
        """Combine the evidence into a label and a score in [-1, 1]."""
        w = weights or self.weights
        probs = [softmax(np.asarray(part), w.temperature) for part in features.similarity]
        p = probs[0] if len(probs) == 1 else (1 - w.focus) * probs[0] + w.focus * probs[1]
        embedded = float(p[2] - p[0])
        lex = sum(v for _, v in features.positive_cues) - sum(v for _, v in features.negative_cues)
        if features.is_request and lex >= 0:
            embedded *= w.request_damping
        score = w.embedding * embedded + w.lexicon * float(np.tanh(lex))
        if score < 0 or lex < 0:
            score -= features.intensity
        score = max(-1.0, min(1.0, score))
        strongest = max((v for _, v in features.negative_cues), default=0.0)
        # Very negative needs a strong cue or shouting/repetition, not just a confident complaint: it escalates.
        severe = strongest >= w.severe_cue or features.intensity >= w.severe_intensity
        if score <= w.very_negative_at and severe:
            label = "very_negative"
        elif score <= w.negative_at:
            label = "negative"
            score = max(score, w.very_negative_at + 0.05)  # keep the score on the label's side of the line
        elif score >= w.positive_at:
            label = "positive"
        else:
            label = "neutral"
        cues = [cue for cue, _ in (*features.negative_cues, *features.positive_cues) if cue not in WEAK_POS]
        return Sentiment(label, round(score, 3), cues)

    def sentiment(self, text: str) -> Sentiment:
        """Sentiment label, score and the cues behind it."""
        return self.decide(self.features(text))

    def urgency(self, text: str, sentiment: Sentiment | None = None) -> Urgency:
        """Urgency from cues, sharpened by very negative sentiment."""
        hits = [(cue, w) for cue, w in find_cues(text, URGENCY_CUES) if w > 0]
        score = 1.0 - float(np.prod([1.0 - w for _, w in hits])) if hits else 0.0
        sent = sentiment or self.sentiment(text)
        if sent.label == "very_negative":
            score = max(score, 0.6)
        level = "high" if score >= 0.6 else ("normal" if score >= 0.2 or sent.score < -0.2 else "low")
        return Urgency(level, round(score, 3), [cue for cue, _ in hits])
