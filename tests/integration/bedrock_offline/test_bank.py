"""The few-shot bank with the model: banking77 answered from the bank (through the server), Bitext behaviour kept."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from supportflow.bedrock_offline.bank import (
    SOURCES,
    load_bank,
    mask_identifiers,
)
from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.classify import knn
from supportflow.bedrock_offline.server import BANK_HEADER, OfflineBedrock, get_brain
from tests.constants import CLAUDE_3_HAIKU, REGION

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

MODEL = CLAUDE_3_HAIKU
REPO = Path(__file__).resolve().parents[3]
BANKING77_LABELS: list[str] = json.loads((REPO / "data" / "banking77" / "categories.json").read_text())
BITEXT_LABELS = ["cancel_order", "get_refund", "track_order", "delivery_period", "complaint", "recover_password"]


@pytest.fixture(scope="module")
def brain() -> Brain:
    return get_brain()


@pytest.fixture
def client(offline_bedrock: OfflineBedrock) -> BedrockRuntimeClient:
    return boto3.client("bedrock-runtime", endpoint_url=offline_bedrock.url, region_name=REGION)


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
