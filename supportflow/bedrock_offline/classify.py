"""Labels: zero-shot against label prompts, blended with a k-NN vote over the few-shot bank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from supportflow.bedrock_offline.bank import Bank, mask_identifiers
from supportflow.bedrock_offline.embedding import Embedder
from supportflow.bedrock_offline.labels import label_prompts, normalise_label
from supportflow.bedrock_offline.text import sentences

Vector = np.ndarray
_BANK_WEIGHT = 0.85  # kNN share when every requested label has bank examples


@dataclass(frozen=True)
class Classification:
    """The chosen label, its probability and every label's probability."""

    label: str
    confidence: float
    scores: dict[str, float]


def softmax(values: np.ndarray, temperature: float) -> Vector:
    """Softmax of ``values`` at ``temperature``."""
    scaled = (values - values.max()) / temperature
    exp = np.exp(scaled)
    return np.asarray(exp / exp.sum())


def classify(
    embedder: Embedder,
    bank: Bank | None,
    text: str,
    labels: Sequence[str],
    descriptions: dict[str, str] | None = None,
) -> Classification:
    """Pick one of ``labels`` for ``text``: zero-shot on names/descriptions, plus kNN from ``bank`` if any."""
    labels = list(dict.fromkeys(labels))
    if len(labels) == 1:
        return Classification(labels[0], 1.0, {labels[0]: 1.0})
    descriptions = descriptions or {}
    # Long tickets mix a request with venting; scoring each sentence too lets the request win.
    masked = mask_identifiers(text)
    pieces = [s for s in sentences(masked) if len(s) > 12][:5]
    if len(pieces) < 2:
        pieces = [masked]
    covered = [label for label in labels if bank is not None and bank.knows(label)]
    total = np.zeros(len(labels))
    for query in embedder.embed(pieces):
        probs = zero_shot(embedder, query, labels, descriptions)
        if covered and bank is not None:
            # Trust the bank in proportion to how many requested labels it has examples for.
            weight = _BANK_WEIGHT * len(covered) / len(labels)
            probs = weight * knn(query, labels, covered, bank) + (1.0 - weight) * probs
        # Peaked (confident) pieces count more than diffuse ones.
        total += probs * float(probs.max()) ** 2
    probs = total / total.sum()
    best = int(np.argmax(probs))
    scores = {label: round(float(p), 4) for label, p in zip(labels, probs, strict=True)}
    return Classification(labels[best], round(float(probs[best]), 4), scores)


def zero_shot(embedder: Embedder, query: Vector, labels: list[str], descriptions: dict[str, str]) -> Vector:
    """Probabilities of ``labels`` from the best-matching prompt of each."""
    prompts: list[str] = []
    owner: list[int] = []
    for i, label in enumerate(labels):
        variants = label_prompts(label, descriptions.get(label))
        prompts.extend(variants)
        owner.extend([i] * len(variants))
    sims = embedder.embed(prompts) @ query
    best = np.full(len(labels), -1.0)
    for sim, i in zip(sims, owner, strict=True):
        best[i] = max(best[i], float(sim))
    return softmax(best, 0.01)


def knn(query: Vector, labels: list[str], covered: list[str], bank: Bank, k: int = 15) -> Vector:
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
