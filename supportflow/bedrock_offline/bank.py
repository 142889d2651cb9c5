"""Labelled few-shot bank built from the shipped Bitext split, with an on-disk embedding cache."""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

DATA_CSV = Path(__file__).resolve().parents[2] / "data" / "bitext" / "customer_support_intents.csv"
# Bump when the embedding recipe changes so stale caches are never reused.
_CACHE_VERSION = "e5q-v2-masked"
TRAIN_PERCENT = 80


@dataclass(frozen=True)
class Example:
    """One labelled utterance."""

    text: str
    intent: str
    category: str


def cache_dir() -> Path:
    """Directory for derived, rebuildable artefacts (``$SUPPORTFLOW_CACHE_DIR`` or XDG cache)."""
    explicit = os.environ.get("SUPPORTFLOW_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "supportflow"


def is_train(example: Example) -> bool:
    """Deterministic 80/20 split: hash the row so the split never depends on file order."""
    digest = hashlib.sha256(f"{example.intent}\x1f{example.text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < TRAIN_PERCENT


def load_examples(path: Path = DATA_CSV) -> list[Example]:
    """Read every labelled row of the Bitext CSV (instruction, intent, category)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [
            Example(row["instruction"].strip(), row["intent"].strip(), row["category"].strip().lower())
            for row in csv.DictReader(handle)
        ]
    return [row for row in rows if row.text and row.intent]


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """Return (train, held_out) by the row hash."""
    train = [ex for ex in examples if is_train(ex)]
    held = [ex for ex in examples if not is_train(ex)]
    return train, held


@dataclass
class Bank:
    """Train-split examples with their unit-length embeddings, indexed by intent and category."""

    examples: list[Example]
    vectors: Matrix
    intent_of_category: dict[str, list[str]]
    category_of_intent: dict[str, str]
    index: dict[str, npt.NDArray[np.int64]]

    def rows_for(self, label: str) -> npt.NDArray[np.int64]:
        """Indices of examples whose intent or category equals ``label`` (normalised)."""
        return self.index.get(normalise_label(label), np.zeros(0, dtype=np.int64))

    def knows(self, label: str) -> bool:
        """True when the label is a known intent or category."""
        return normalise_label(label) in self.index

    @property
    def intents(self) -> list[str]:
        """Known intents, sorted."""
        return sorted(self.category_of_intent)


_IDENTIFIER = re.compile(r"#?\b[A-Za-z]{0,4}-?\d[\d-]{2,}\w*")


def mask_identifiers(text: str) -> str:
    """Replace order numbers and the like by one token: their digits otherwise dominate similarity."""
    return _IDENTIFIER.sub("#", text)


def normalise_label(label: str) -> str:
    """Lower-case, separators folded to ``_`` so "Get Refund" and "get-refund" match ``get_refund``."""
    out = "".join(ch if ch.isalnum() else "_" for ch in label.strip().lower())
    return "_".join(part for part in out.split("_") if part)


def load_bank(embed: Callable[[list[str]], Matrix], path: Path = DATA_CSV) -> Bank:
    """Build the bank from the train split, reusing cached embeddings keyed by the data's hash."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw + _CACHE_VERSION.encode()).hexdigest()[:16]
    train, _ = split(load_examples(path))
    cache = cache_dir() / f"bank-{digest}.npy"
    vectors: Matrix | None = None
    if cache.exists():
        loaded = np.load(cache)
        if loaded.shape[0] == len(train):
            vectors = loaded.astype(np.float32)
    if vectors is None:
        started = time.perf_counter()
        log.info("embedding %d bank examples (first run only; cached to %s)", len(train), cache)
        vectors = embed([mask_identifiers(ex.text) for ex in train])
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename so a concurrent reader never sees half a file.
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(cache)
        log.info("bank embedded in %.1fs", time.perf_counter() - started)
    intents: dict[str, list[str]] = {}
    category_of: dict[str, str] = {}
    for ex in train:
        category_of[ex.intent] = ex.category
        intents.setdefault(ex.category, [])
        if ex.intent not in intents[ex.category]:
            intents[ex.category].append(ex.intent)
    rows: dict[str, list[int]] = {}
    for i, ex in enumerate(train):
        rows.setdefault(ex.intent, []).append(i)
        rows.setdefault(ex.category, []).append(i)
    index = {key: np.asarray(val, dtype=np.int64) for key, val in rows.items()}
    return Bank(train, vectors, intents, category_of, index)
