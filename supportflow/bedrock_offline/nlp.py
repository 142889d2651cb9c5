"""The offline "model": embeddings, few-/zero-shot labels, sentiment, urgency, language, extraction."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from supportflow.bedrock_offline.bank import SHIPPED_PROMPTS, SOURCES, Bank, load_bank, mask_identifiers
from supportflow.bedrock_offline.embedding import Embedder
from supportflow.bedrock_offline.labels import label_prompts, normalise_label
from supportflow.bedrock_offline.vector_files import model_identity
from workers.shared import language as shared_language

log = logging.getLogger(__name__)

SENTIMENT_LABELS = ("very_negative", "negative", "neutral", "positive")
_CACHE_SIZE = 4096
_BANK_WEIGHT = 0.85  # kNN share when every requested label has bank examples


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


@dataclass(frozen=True)
class Classification:
    """The chosen label, its probability and every label's probability."""

    label: str
    confidence: float
    scores: dict[str, float]


def _find_cues(text: str, lexicon: dict[str, float]) -> list[tuple[str, float]]:
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


def _softmax(values: np.ndarray, temperature: float) -> np.ndarray:
    scaled = (values - values.max()) / temperature
    exp = np.exp(scaled)
    return np.asarray(exp / exp.sum())


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
        names = list(_SENTIMENT_PROTOTYPES)
        vecs = [self.embedder.embed(_SENTIMENT_PROTOTYPES[name]).mean(axis=0) for name in names]
        self._sentiment_centroids = np.vstack([v / np.linalg.norm(v) for v in vecs])
        self._sentiment_names = names

    # --- labels ----------------------------------------------------------------------------------

    def classify(
        self,
        text: str,
        labels: Sequence[str],
        descriptions: dict[str, str] | None = None,
        use_bank: bool = True,
    ) -> Classification:
        """Pick one of ``labels`` for ``text``: zero-shot on names/descriptions, plus kNN from the bank."""
        labels = list(dict.fromkeys(labels))
        if len(labels) == 1:
            return Classification(labels[0], 1.0, {labels[0]: 1.0})
        descriptions = descriptions or {}
        # Long tickets mix a request with venting; scoring each sentence too lets the request win.
        masked = mask_identifiers(text)
        pieces = [s for s in sentences(masked) if len(s) > 12][:5]
        if len(pieces) < 2:
            pieces = [masked]
        bank = self.bank if use_bank else None
        covered = [label for label in labels if bank is not None and bank.knows(label)]
        total = np.zeros(len(labels))
        for query in self.embedder.embed(pieces):
            probs = self._zero_shot(query, labels, descriptions)
            if covered and bank is not None:
                # Trust the bank in proportion to how many requested labels it has examples for.
                weight = _BANK_WEIGHT * len(covered) / len(labels)
                probs = weight * self._knn(query, labels, covered, bank) + (1.0 - weight) * probs
            # Peaked (confident) pieces count more than diffuse ones.
            total += probs * float(probs.max()) ** 2
        probs = total / total.sum()
        best = int(np.argmax(probs))
        scores = {label: round(float(p), 4) for label, p in zip(labels, probs, strict=True)}
        return Classification(labels[best], round(float(probs[best]), 4), scores)

    def _zero_shot(self, query: np.ndarray, labels: list[str], descriptions: dict[str, str]) -> np.ndarray:
        prompts: list[str] = []
        owner: list[int] = []
        for i, label in enumerate(labels):
            variants = label_prompts(label, descriptions.get(label))
            prompts.extend(variants)
            owner.extend([i] * len(variants))
        sims = self.embedder.embed(prompts) @ query
        best = np.full(len(labels), -1.0)
        for sim, i in zip(sims, owner, strict=True):
            best[i] = max(best[i], float(sim))
        return _softmax(best, 0.01)

    @staticmethod
    def _knn(query: np.ndarray, labels: list[str], covered: list[str], bank: Bank, k: int = 15) -> np.ndarray:
        """Votes of the nearest bank examples; an intent not offered votes for offered siblings.

        Only the sources the covered labels come from are searched, so banking77 rows never crowd Bitext
        neighbours out (or vote) when Bitext labels are asked for, and vice versa.
        """
        position = {normalise_label(label): i for i, label in enumerate(labels)}
        spans = sorted({bank.spans[s] for s in (bank.source_of(label) for label in covered) if s in bank.spans})
        if len(spans) == len(bank.spans):
            spans = [(0, len(bank.examples))]
        offsets = np.concatenate([np.arange(a, b) for a, b in spans]) if len(spans) > 1 else None
        start, stop = spans[0] if spans else (0, 0)
        sims = bank.vectors[offsets] @ query if offsets is not None else bank.vectors[start:stop] @ query
        k = min(k, sims.shape[0])
        if k == 0:
            return np.full(len(labels), 1.0 / len(labels))
        # Top k by similarity, ties broken by row order so the vote is deterministic.
        part = np.argpartition(-sims, k - 1)[:k]
        top = part[np.lexsort((part, -sims[part]))]
        votes = np.zeros(len(labels))
        for j in top:
            row = int(offsets[j]) if offsets is not None else start + int(j)
            ex = bank.examples[row]
            weight = float(np.exp((sims[j] - sims[top[0]]) / 0.02))
            if ex.intent in position:
                votes[position[ex.intent]] += weight
            elif ex.category and ex.category in position:
                votes[position[ex.category]] += weight
            elif ex.category:
                # "track_refund" is not offered but "get_refund" is: same category, so it gets the vote.
                siblings = [position[i] for i in bank.intent_of_category.get(ex.category, []) if i in position]
                for sibling in siblings:
                    votes[sibling] += weight / len(siblings)
        total = votes.sum()
        return votes / total if total > 0 else np.full(len(labels), 1.0 / len(labels))

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
        """Sentiment from embedding prototypes blended with a cue lexicon."""
        query = self.embedder.embed([text])[0]
        sims = self._sentiment_centroids @ query
        probs = _softmax(sims, 0.01)
        emb_score = float(sum(p * _SENTIMENT_VALUE[n] for p, n in zip(probs, self._sentiment_names, strict=True)))
        neg = _find_cues(text, _NEG_CUES)
        pos = _find_cues(text, _POS_CUES) + _find_cues(text, _WEAK_POS)
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
        hits = [(cue, w) for cue, w in _find_cues(text, _URGENCY_CUES) if w > 0]
        score = 1.0 - float(np.prod([1.0 - w for _, w in hits])) if hits else 0.0
        sent = sentiment or self.sentiment(text)
        if sent.label == "very_negative":
            score = max(score, 0.6)
        level = "high" if score >= 0.6 else ("normal" if score >= 0.2 or sent.score < -0.2 else "low")
        return Urgency(level, round(score, 3), [cue for cue, _ in hits])

    # --- retrieval -------------------------------------------------------------------------------

    def rank_sentences(self, query: str, sentences: Sequence[str], top: int = 2) -> list[str]:
        """The ``top`` sentences most similar to ``query``, in their original order."""
        if not sentences:
            return []
        sims = self.embedder.embed(list(sentences)) @ self.embedder.embed([query])[0]
        best = sorted(np.argsort(-sims, kind="stable")[:top].tolist())
        return [sentences[i] for i in best]


# --- cheap text utilities -------------------------------------------------------------------------


def _words(spaced: str) -> set[str]:
    return set(spaced.split())


def detect_language(text: str) -> str:
    """BCP 47 primary language (the workers' detector); English when there is too little to tell."""
    language = shared_language.detect_language(text)
    return "en" if language == shared_language.UNDETERMINED else language


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AMOUNT = re.compile(r"(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:USD|EUR|GBP|dollars|euros?))", re.I)
_ORDER_ID = re.compile(r"(?:#\s?)?\b(?=[A-Z0-9-]*\d)[A-Z]{0,5}-?\d{4,}(?:-[A-Z0-9]+)*\b")
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
_URL = re.compile(r"https?://\S+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?\b")


def emails(text: str) -> list[str]:
    """Email addresses in order of appearance."""
    return list(dict.fromkeys(_EMAIL.findall(text)))


def amounts(text: str) -> list[float]:
    """Money amounts (``$12.50``, ``30 EUR``) as floats."""
    out = []
    for raw in _AMOUNT.findall(text):
        digits = re.sub(r"[^\d.]", "", raw.replace(",", ""))
        if digits:
            out.append(float(digits))
    return out


def identifiers(text: str) -> list[str]:
    """Order/ticket-like identifiers (``#12345``, ``ORD-2024-001``) without the leading ``#``."""
    found = [m.group(0).lstrip("# ") for m in _ORDER_ID.finditer(text)]
    return list(dict.fromkeys(f for f in found if not re.fullmatch(r"(19|20)\d{2}", f)))


def numbers(text: str) -> list[float]:
    """Every number in the text."""
    return [float(n.replace(",", ".")) for n in _NUMBER.findall(text)]


def phones(text: str) -> list[str]:
    """Phone-number-like strings."""
    return list(dict.fromkeys(p.strip() for p in _PHONE.findall(text)))


def urls(text: str) -> list[str]:
    """URLs."""
    return list(dict.fromkeys(_URL.findall(text)))


def dates(text: str) -> list[str]:
    """ISO-like dates."""
    return list(dict.fromkeys(_DATE.findall(text)))


def sentences(text: str) -> list[str]:
    """Split into sentences on terminal punctuation and line breaks."""
    parts = re.split(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n+", text)
    return [p.strip(" -*•\t") for p in parts if len(p.strip(" -*•\t")) > 2]


_ALL_STOP = set().union(*shared_language.STOPWORDS.values()) | _words(
    "hi hello dear please thanks thank would like want need could should just also get got im i'm "
    "there their they them what when where which who how why all any some been being do does did "
    "has had will from about an as at by or so if but we our us"
)


def keywords(text: str, limit: int = 5) -> list[str]:
    """Most frequent content words (ties broken by first appearance), a cheap topic list."""
    words = [w for w in re.findall(r"[^\W\d_]{3,}", text.lower()) if w not in _ALL_STOP]
    counts = Counter(words)
    first = {w: i for i, w in reversed(list(enumerate(words)))}
    ranked = sorted(counts, key=lambda w: (-counts[w], first[w]))
    return ranked[:limit]


def summarise(text: str, limit: int = 240) -> str:
    """Extractive summary: the leading sentences that fit in ``limit`` characters."""
    out: list[str] = []
    for sentence in sentences(text):
        candidate = " ".join([*out, sentence])
        if len(candidate) > limit:
            break
        out.append(sentence)
    if not out:
        clipped = text.strip()[:limit]
        return clipped.rsplit(" ", 1)[0] if len(text.strip()) > limit and " " in clipped else clipped
    return " ".join(out)
