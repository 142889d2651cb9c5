"""The sample feedback files are ones the Data Automation runtime reads (offline, as the service would)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportflow.bedrock_offline.documents import read_document
from tests.constants import EVENTS_DIR

SAMPLES = sorted(p for p in (EVENTS_DIR / "feedback").iterdir() if p.name != "README.md")


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_each_sample_reads_as_text_the_pipeline_can_analyse(path: Path) -> None:
    # Given a sample feedback file, When the offline Data Automation reads it
    document = read_document(path.name, path.read_bytes())
    # Then it holds words to analyse
    assert len(document.text.split()) >= 20


def test_there_is_a_document_and_a_call() -> None:
    # Given the samples, Then both modalities are covered
    assert {p.suffix for p in SAMPLES} >= {".txt", ".json"}
