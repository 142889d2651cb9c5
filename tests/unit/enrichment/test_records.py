"""Batch records: the JSONL each item becomes, and the output joined back on recordId."""

from __future__ import annotations

import json

from workers.enrichment.models import CatalogItem
from workers.enrichment.records import TOOL_NAME, jsonl, parse_output

ITEMS = [
    CatalogItem(item_id="P1", title="Kettle", text="A kettle that boils a litre in two minutes.").hashed(),
    CatalogItem(item_id="P2", title="Lamp", text="A desk lamp with three brightness levels.").hashed(),
    CatalogItem(item_id="H1", kind="help", title="Returns", text="Returns are free within 30 days.").hashed(),
]


def _answer(record_id: str, summary: str) -> str:
    content = [{"type": "tool_use", "id": "t", "name": TOOL_NAME, "input": {"tags": ["x"], "summary": summary}}]
    output = {"content": content, "usage": {"input_tokens": 10, "output_tokens": 4}}
    return json.dumps({"recordId": record_id, "modelInput": {}, "modelOutput": output})


def test_each_item_becomes_one_anthropic_record_forcing_the_enrichment_tool() -> None:
    # When the items are written as batch input
    body, records = jsonl(ITEMS)

    # Then each line has a recordId naming its item and content version, and a messages body forcing the tool
    rows = [json.loads(line) for line in body.splitlines()]
    assert [r["recordId"] for r in rows] == [r.record_id for r in records]
    assert [r.item_id for r in records] == ["P1", "P2", "H1"]
    assert all(r.record_id.startswith(f"{r.item_id}-") for r in records)
    first = rows[0]["modelInput"]
    assert first["anthropic_version"] == "bedrock-2023-05-31"
    assert first["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert "A kettle that boils" in first["messages"][0]["content"][0]["text"]


def test_output_is_joined_on_record_id_whatever_its_order_and_every_problem_is_reported() -> None:
    # Given output lines in another order: one answered, one error, one invalid; and one record with no line
    _, records = jsonl(ITEMS)
    p1, p2, h1 = (r.record_id for r in records)
    lines = [
        json.dumps({"recordId": p2, "modelInput": {}, "error": {"errorCode": 400, "errorMessage": "Malformed\ninput"}}),
        _answer(p1, "A fast kettle."),
        json.dumps({"recordId": "someone-else", "modelOutput": {}}),
    ]

    # When the output is parsed
    parsed = parse_output(lines, records)

    # Then the answer is P1's, P2's error and H1's missing line are both reported, the stranger ignored
    assert {rid: e.summary for rid, e in parsed.enriched.items()} == {p1: "A fast kettle."}
    assert [(e.item_id, e.code, e.message) for e in parsed.errors] == [
        ("P2", "400", "Malformed input"),
        ("H1", "MissingOutput", "the job wrote no output for this record"),
    ]
    assert (parsed.usage.input_tokens, parsed.usage.output_tokens) == (10, 4)
    assert h1 not in parsed.enriched


def test_an_output_without_a_valid_enrichment_is_a_record_error() -> None:
    # Given an answer whose tool input misses the tags
    _, records = jsonl(ITEMS[:1])
    content = [{"type": "tool_use", "id": "t", "name": TOOL_NAME, "input": {"summary": "no tags"}}]
    line = json.dumps({"recordId": records[0].record_id, "modelOutput": {"content": content}})

    # When it is parsed
    parsed = parse_output([line], records)

    # Then it is reported, not enriched
    assert parsed.enriched == {}
    assert [e.code for e in parsed.errors] == ["OutputInvalid"]


def test_an_item_needs_enrichment_when_new_or_changed() -> None:
    # Given an item enriched at its current content
    item = ITEMS[0].model_copy(update={"enriched_hash": ITEMS[0].content_hash})

    # Then it needs nothing until its text changes
    assert not item.needs_enrichment
    assert ITEMS[0].needs_enrichment
    assert item.model_copy(update={"text": "A new text."}).hashed().needs_enrichment
