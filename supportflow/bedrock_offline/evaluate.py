"""Offline model accuracy on the held-out Bitext and banking77 splits, through boto3 Converse (``make eval``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import boto3

from supportflow.bedrock_offline.bank import Example, load_banking77, load_examples, split, subsample
from supportflow.bedrock_offline.sentiment_eval import DEV_SET, TEST_SET, load_labelled, macro_f1
from supportflow.bedrock_offline.server import BANK_HEADER, OfflineBedrock, get_brain

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"

# Hand-labelled support texts: the sentiment behaviour table.
SENTIMENT_SAMPLES: list[tuple[str, str]] = [
    ("This is the third time I ask about my refund. Unacceptable!", "very_negative"),
    ("You are the worst company ever, I want my money back NOW!!!", "very_negative"),
    ("I am furious, nobody answers and my account is still locked.", "very_negative"),
    ("I am not happy with the product, it stopped working after a week.", "negative"),
    ("My order arrived damaged and I am disappointed.", "negative"),
    ("Still waiting for the invoice I requested on Monday.", "negative"),
    ("How do I change my shipping address?", "neutral"),
    ("Can you tell me which payment methods you accept? Thanks", "neutral"),
    ("I would like to cancel my newsletter subscription.", "neutral"),
    ("Thanks so much, the replacement arrived and works perfectly!", "positive"),
    ("Great service, the agent was very helpful.", "positive"),
    ("Muchas gracias, el pedido llegó a tiempo y todo está perfecto.", "positive"),
]


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _progress(done: int, total: int, started: float, label: str) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(f"\r  {label}: {done}/{total} ({rate:.0f}/s)   ")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _client(url: str, bank: bool) -> BedrockRuntimeClient:
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106  (dummy credentials: the endpoint is local)
    )
    if not bank:

        def no_bank(request: Any, **_: Any) -> None:
            request.headers[BANK_HEADER] = "off"

        client.meta.events.register("before-send.bedrock-runtime.Converse", no_bank)
    return client


def classify_tool(labels: Sequence[str]) -> dict[str, Any]:
    """The Converse toolConfig the evaluation sends: one tool whose schema enumerates the intents."""
    schema = {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": list(labels), "description": "What the customer wants."},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["intent", "confidence"],
    }
    spec = {"name": "classify_ticket", "description": "Classify a support ticket.", "inputSchema": {"json": schema}}
    return {"tools": [{"toolSpec": spec}], "toolChoice": {"tool": {"name": "classify_ticket"}}}


def _tool_input(client: BedrockRuntimeClient, text: str, tool_config: dict[str, Any]) -> dict[str, Any]:
    response = client.converse(
        modelId=MODEL_ID,
        messages=[{"role": "user", "content": [{"text": text}]}],
        toolConfig=tool_config,  # type: ignore[arg-type]
    )
    block = response["output"]["message"]["content"][0]
    return dict(block["toolUse"]["input"])


def evaluate_intents(
    client: BedrockRuntimeClient, held: list[Example], label: str, labels: Sequence[str] | None = None
) -> dict[str, float]:
    """Accuracy, macro recall and macro F1 of the intent tool call over ``held``.

    The tool offers ``labels`` (default: the intents of ``held``); macro averages are over the intents that
    occur in ``held``.
    """
    offered = sorted(labels or {ex.intent for ex in held})
    config = classify_tool(offered)
    gold: list[str] = []
    pred: list[str] = []
    started = time.perf_counter()
    for i, ex in enumerate(held, 1):
        gold.append(ex.intent)
        pred.append(str(_tool_input(client, ex.text, config)["intent"]))
        if i % 25 == 0 or i == len(held):
            _progress(i, len(held), started, label)
    elapsed = time.perf_counter() - started
    recalls, f1s = [], []
    for intent in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == intent)
        n_gold = gold.count(intent)
        n_pred = pred.count(intent)
        recall = tp / n_gold if n_gold else 0.0
        precision = tp / n_pred if n_pred else 0.0
        recalls.append(recall)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    accuracy = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / len(gold)
    return {
        "accuracy": accuracy,
        "macro_recall": sum(recalls) / len(recalls),
        "macro_f1": sum(f1s) / len(f1s),
        "ms_per_call": 1000 * elapsed / len(held),
    }


def sentiment_tool() -> dict[str, Any]:
    """A sentiment tool like the pipeline's SentimentAnalyzed event."""
    schema = {
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": ["very_negative", "negative", "neutral", "positive"]},
            "score": {"type": "number", "minimum": -1, "maximum": 1},
            "urgency_cues": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["label", "score"],
    }
    spec = {"name": "analyze_sentiment", "description": "Sentiment of a message.", "inputSchema": {"json": schema}}
    return {"tools": [{"toolSpec": spec}], "toolChoice": {"any": {}}}


def evaluate_sentiment_f1(client: BedrockRuntimeClient) -> None:
    """Three-class macro-F1 through Converse on the hand-written dev (tuned on) and test (held-out) sets."""
    config = sentiment_tool()
    _out("\nSentiment, three-class macro-F1 (very_negative counts as negative; hand-written multi-domain sets)")
    _out("| set  | texts | languages | macro F1 |")
    _out("|------|-------|-----------|----------|")
    for name, path in (("dev", DEV_SET), ("test", TEST_SET)):
        rows = load_labelled(path)
        predicted = [str(_tool_input(client, row.text, config)["label"]) for row in rows]
        f1 = macro_f1([row.label for row in rows], predicted)
        _out(f"| {name:<4} | {len(rows):>5} | {len({row.language for row in rows}):>9} | {f1:>8.3f} |")


def evaluate_sentiment(client: BedrockRuntimeClient, held: list[Example], sample: int) -> None:
    """Print the hand-labelled sentiment table and the label distribution on held-out texts."""
    config = sentiment_tool()
    _out("\nSentiment on hand-labelled support texts")
    _out(f"| {'text':<66} | expected      | got           | score  | cues")
    _out(f"|{'-' * 68}|---------------|---------------|--------|------")
    agree = 0
    for text, expected in SENTIMENT_SAMPLES:
        got = _tool_input(client, text, config)
        agree += got["label"] == expected
        cues = ", ".join(got.get("urgency_cues", []))
        _out(f"| {text[:66]:<66} | {expected:<13} | {got['label']:<13} | {got['score']:+.2f}  | {cues}")
    _out(f"agreement: {agree}/{len(SENTIMENT_SAMPLES)}")
    step = max(1, len(held) // sample)
    subset = held[::step][:sample]
    by_intent: dict[str, Counter[str]] = {}
    overall: Counter[str] = Counter()
    started = time.perf_counter()
    for i, ex in enumerate(subset, 1):
        label = str(_tool_input(client, ex.text, config)["label"])
        overall[label] += 1
        by_intent.setdefault(ex.intent, Counter())[label] += 1
        if i % 25 == 0 or i == len(subset):
            _progress(i, len(subset), started, "sentiment")
    _out(f"\nSentiment label distribution over {len(subset)} held-out Bitext texts")
    for label in ("very_negative", "negative", "neutral", "positive"):
        _out(f"  {label:<14} {overall[label]:>4}  ({overall[label] / len(subset):.0%})")
    complaint = by_intent.get("complaint", Counter())
    if complaint:
        negative = complaint["negative"] + complaint["very_negative"]
        _out(f"  'complaint' texts labelled negative/very_negative: {negative}/{sum(complaint.values())}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="evaluate only N Bitext held-out rows (0 = all 738)")
    parser.add_argument(
        "--banking77-limit", type=int, default=600, help="banking77 held-out rows evaluated (0 = all ~2,000)"
    )
    parser.add_argument("--skip-zero-shot", action="store_true")
    parser.add_argument("--skip-banking77", action="store_true")
    parser.add_argument("--sentiment-sample", type=int, default=200)
    parser.add_argument("--sentiment-only", action="store_true", help="only the sentiment figures")
    args = parser.parse_args(argv)
    if args.sentiment_only:
        with OfflineBedrock() as server:
            evaluate_sentiment_f1(_client(server.url, True))
        return 0

    examples = load_examples()
    train, held = split(examples)
    held = subsample(held, args.limit)
    datasets = [("Bitext", held, sorted({ex.intent for ex in examples}))]
    started = time.perf_counter()
    server = OfflineBedrock()
    url = server.start()
    _out(f"offline bedrock ready in {time.perf_counter() - started:.2f}s at {url}")
    _out(f"bitext: {len(examples)} rows, train {len(train)} (all in the bank), held-out evaluated {len(held)}")
    if not args.skip_banking77:
        banking = load_banking77()
        bk_train, bk_held = split(banking)
        bk_eval = subsample(bk_held, args.banking77_limit)
        bank_rows = server_bank_rows("banking77")
        _out(
            f"banking77: {len(banking)} rows, train {len(bk_train)} (bank keeps {bank_rows}, capped per intent), "
            f"held-out {len(bk_held)}, evaluated {len(bk_eval)}"
            + (" (deterministic subsample: lowest row hashes)" if len(bk_eval) < len(bk_held) else "")
        )
        datasets.append(("banking77", bk_eval, sorted({ex.intent for ex in banking})))
    try:
        runs = [("few-shot", True)]
        if not args.skip_zero_shot:
            runs.append(("zero-shot", False))
        results: dict[tuple[str, str, int, int], dict[str, float]] = {}
        eval_started = time.perf_counter()
        for dataset, rows, labels in datasets:
            for mode, bank in runs:
                key = (dataset, mode, len(labels), len(rows))
                results[key] = evaluate_intents(_client(url, bank), rows, f"{dataset} {mode}", labels)
        _out(
            "\nIntent accuracy on held-out splits (through boto3 Converse tool use; one tool whose enum lists "
            "the dataset's intents; zero-shot = x-supportflow-bank: off, label names only)"
        )
        _out(f"| {'dataset':<9} | {'mode':<9} | intents | texts | accuracy | macro recall | macro F1 | ms/call |")
        _out(f"|{'-' * 11}|{'-' * 11}|---------|-------|----------|--------------|----------|---------|")
        for (dataset, mode, n_labels, n_rows), r in results.items():
            _out(
                f"| {dataset:<9} | {mode:<9} | {n_labels:>7} | {n_rows:>5} | {r['accuracy']:>8.1%} | "
                f"{r['macro_recall']:>12.1%} | {r['macro_f1']:>8.1%} | {r['ms_per_call']:>7.1f} |"
            )
        _out(f"intent evaluation took {time.perf_counter() - eval_started:.0f}s")
        evaluate_sentiment(_client(url, True), held, args.sentiment_sample)
        evaluate_sentiment_f1(_client(url, True))
        _out(f"\nserver saw {server.request_count()} requests")
    finally:
        server.stop()
    return 0


def server_bank_rows(source: str) -> int:
    """How many bank rows ``source`` contributes in this process's model (0 without a bank)."""
    bank = get_brain().bank
    if bank is None:
        return 0
    start, stop = bank.spans.get(source, (0, 0))
    return stop - start


if __name__ == "__main__":
    raise SystemExit(main())
