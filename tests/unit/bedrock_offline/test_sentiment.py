"""Offline sentiment without the model: the hand-written evaluation sets and the macro-F1 they are scored with."""

from __future__ import annotations

from collections import Counter

import pytest

from supportflow.bedrock_offline.sentiment_eval import (
    CLASSES,
    DEV_SET,
    TEST_SET,
    load_labelled,
    macro_f1,
    three_class,
)


def test_evaluation_sets_are_balanced_varied_and_disjoint() -> None:
    # Given the dev (tuning) and test (held-out) sets
    dev, test = load_labelled(DEV_SET), load_labelled(TEST_SET)
    # Then each is a few hundred texts, near-balanced over three classes, several languages and domains
    for rows in (dev, test):
        counts = Counter(row.label for row in rows)
        assert 150 <= len(rows) <= 300
        assert set(counts) == set(CLASSES)
        assert max(counts.values()) - min(counts.values()) <= 0.1 * len(rows)
        assert len({row.language for row in rows}) >= 6
        assert {row.domain for row in rows} == {"ticket", "review", "tweet", "chat"}
    # And no text is in both, so the test set stays held out
    assert not {row.text for row in dev} & {row.text for row in test}


def test_macro_f1_folds_very_negative_and_punishes_a_missing_class() -> None:
    gold = ["negative", "neutral", "positive", "negative"]
    assert macro_f1(gold, ["very_negative", "neutral", "positive", "negative"]) == pytest.approx(1.0)
    # Never predicting "positive" costs that class's whole F1 (a third of the macro average)
    never_positive = macro_f1(gold, ["negative", "neutral", "neutral", "negative"])
    assert never_positive == pytest.approx((1.0 + 2 / 3 + 0.0) / 3)
    assert three_class("very_negative") == "negative" and three_class("neutral") == "neutral"
