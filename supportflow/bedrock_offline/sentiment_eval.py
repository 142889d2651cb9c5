"""Three-class sentiment macro-F1 on the hand-written dev and test sets in ``data/`` (see data/README.md)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SENTIMENT_DATA = Path(__file__).resolve().parent / "data"
DEV_SET = SENTIMENT_DATA / "sentiment_dev.tsv"
TEST_SET = SENTIMENT_DATA / "sentiment_test.tsv"
CLASSES = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class LabelledText:
    """One hand-labelled text: three-class gold label, language and domain."""

    label: str
    language: str
    domain: str
    text: str


def load_labelled(path: Path) -> list[LabelledText]:
    """Rows of a sentiment TSV (``#`` lines are comments)."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    rows = [LabelledText(*fields) for fields in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)]
    unknown = {row.label for row in rows} - set(CLASSES)
    if unknown:
        raise ValueError(f"unknown labels in {path.name}: {sorted(unknown)}")
    return rows


def three_class(label: str) -> str:
    """Fold a four-way label into three: very_negative counts as negative."""
    return "negative" if label == "very_negative" else label


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-averaged F1 over the three classes (predictions folded to three classes first)."""
    folded = [three_class(p) for p in predicted]
    scores = []
    for cls in CLASSES:
        tp = sum(1 for g, p in zip(gold, folded, strict=True) if g == p == cls)
        n_pred = folded.count(cls)
        n_gold = list(gold).count(cls)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def score_set(rows: Sequence[LabelledText], predict: Callable[[str], str]) -> tuple[float, list[str]]:
    """Macro-F1 of ``predict`` over ``rows`` and the predictions."""
    predicted = [predict(row.text) for row in rows]
    return macro_f1([row.label for row in rows], predicted), predicted


def main(argv: Sequence[str] | None = None) -> int:
    """Print in-process macro-F1 on the dev set (``--errors`` lists misses; ``--test`` adds the test set)."""
    from supportflow.bedrock_offline.server import get_brain  # noqa: PLC0415  (loads the model)

    args = list(sys.argv[1:] if argv is None else argv)
    brain = get_brain()
    sets = [("dev", DEV_SET)] + ([("test", TEST_SET)] if "--test" in args else [])
    for name, path in sets:
        rows = load_labelled(path)
        f1, predicted = score_set(rows, lambda text: brain.sentiment(text).label)
        sys.stdout.write(f"{name}: macro-F1 {f1:.3f} on {len(rows)} texts\n")
        if "--errors" in args and name == "dev":
            for row, pred in zip(rows, predicted, strict=True):
                if three_class(pred) != row.label:
                    score = brain.sentiment(row.text).score
                    sys.stdout.write(f"  {row.label:>8} <- {pred:<13} {score:+.2f} {row.text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
