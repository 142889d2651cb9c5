"""Sentiment and urgency: cue lexicons, negation, and embedding prototypes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from supportflow.bedrock_offline.classify import softmax
from supportflow.bedrock_offline.embedding import Embedder
from supportflow.bedrock_offline.sentiment_prototypes import SENTIMENT_PROTOTYPES

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
    # English cues for complaints that name no feeling
    "disappointing": 0.6,
    "poor": 0.4,
    "waste of money": 0.8,
    "doesn't work": 0.5,
    "does not work": 0.5,
    "stopped working": 0.6,
    "not working": 0.5,
    "broke": 0.4,
    "cracked": 0.4,
    "rude": 0.6,
    "never arrived": 0.6,
    "never came": 0.5,
    "misleading": 0.5,
    "overcharged": 0.6,
    "ignored": 0.5,
    "cheated": 0.7,
    "thanks for nothing": 0.9,
    "appalled": 0.8,
    "ugh": 0.4,
    "meh": 0.3,
    "nightmare": 0.8,
    "disaster": 0.7,
    # other languages
    "decepcionada": 0.6,
    "decepcionante": 0.6,
    "harto": 0.7,
    "pésimo": 0.8,
    "pésima": 0.8,
    "nunca más": 0.8,
    "desastre": 0.7,
    "vergonzoso": 0.8,
    "molesto": 0.5,
    "déçue": 0.6,
    "décevant": 0.6,
    "nul": 0.6,
    "inadmissible": 0.9,
    "ras le bol": 0.8,
    "enttäuschend": 0.6,
    "kaputt": 0.5,
    "schlecht": 0.5,
    "verärgert": 0.7,
    "lächerlich": 0.7,
    "unverschämt": 0.8,
    "péssimo": 0.8,
    "horrível": 0.8,
    "absurdo": 0.6,
    "pessimo": 0.8,
    "pessima": 0.8,
    "deluso": 0.6,
    "delusa": 0.6,
    "disastro": 0.7,
    "slecht": 0.5,
    "teleurgesteld": 0.6,
    "waardeloos": 0.8,
    "kapot": 0.5,
    "不満": 0.6,
    "壊れ": 0.5,
    "困": 0.4,
    "残念": 0.5,
    "がっかり": 0.6,
    "期待外れ": 0.6,
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
    "love it": 0.7,
    "highly recommend": 0.8,
    "recommend": 0.4,
    "delighted": 0.8,
    "impressed": 0.6,
    "brilliant": 0.7,
    "lifesaver": 0.7,
    "pleased": 0.6,
    "satisfied": 0.6,
    "happy": 0.4,
    "the best": 0.6,
    "best ever": 0.7,
    "superb": 0.8,
    "flawless": 0.7,
    "flawlessly": 0.7,
    "kudos": 0.7,
    "well done": 0.6,
    "worth every penny": 0.8,
    "exceeded": 0.5,
    "lovely": 0.6,
    "glad": 0.4,
    "excelente": 0.8,
    "encanta": 0.7,
    "genial": 0.6,
    "perfecto": 0.6,
    "muchas gracias": 0.6,
    "merci beaucoup": 0.6,
    "parfait": 0.6,
    "génial": 0.7,
    "ravi": 0.6,
    "vielen dank": 0.6,
    "zufrieden": 0.6,
    "perfekt": 0.6,
    "empfehlenswert": 0.7,
    "ótimo": 0.7,
    "adorei": 0.7,
    "obrigado": 0.4,
    "obrigada": 0.4,
    "grazie mille": 0.6,
    "fantastico": 0.7,
    "ottimo": 0.7,
    "perfetto": 0.6,
    "bedankt": 0.4,
    "geweldig": 0.7,
    "tevreden": 0.6,
    "満足": 0.6,
    "最高": 0.8,
    "助かり": 0.6,
}
# Weak on purpose: "thanks" closes most neutral support mails.
_WEAK_POS: dict[str, float] = {"thanks": 0.15, "thank you": 0.15, "please": 0.0}
_NEGATORS = ("not ", "n't ", "never ", "no ", "pas ", "nicht ", "não ", "non ", "niet ", "kein ")

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
        negative = [(c, w) for c, w in find_cues(text, _NEG_CUES)]
        positive = [*find_cues(text, _POS_CUES), *find_cues(text, _WEAK_POS)]
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
        cues = [cue for cue, _ in (*features.negative_cues, *features.positive_cues) if cue not in _WEAK_POS]
        return Sentiment(label, round(score, 3), cues)

    def sentiment(self, text: str) -> Sentiment:
        """Sentiment label, score and the cues behind it."""
        return self.decide(self.features(text))

    def urgency(self, text: str, sentiment: Sentiment | None = None) -> Urgency:
        """Urgency from cues, sharpened by very negative sentiment."""
        hits = [(cue, w) for cue, w in find_cues(text, _URGENCY_CUES) if w > 0]
        score = 1.0 - float(np.prod([1.0 - w for _, w in hits])) if hits else 0.0
        sent = sentiment or self.sentiment(text)
        if sent.label == "very_negative":
            score = max(score, 0.6)
        level = "high" if score >= 0.6 else ("normal" if score >= 0.2 or sent.score < -0.2 else "low")
        return Urgency(level, round(score, 3), [cue for cue, _ in hits])
