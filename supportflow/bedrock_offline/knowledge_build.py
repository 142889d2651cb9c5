"""Build the shipped knowledge base: ``python -m supportflow.bedrock_offline.knowledge_build``.

Writes the Bitext-derived how-to articles (two representative sample responses per intent, placeholders
turned into generic wording), the manifest of every article with its SHA-256, and the chunk vectors.
The hand-written policy pages in ``data/knowledge/articles/`` are inputs, never rewritten.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from supportflow.bedrock_offline.bank import DATA_CSV
from supportflow.bedrock_offline.knowledge_index import (
    ARTICLES_DIR,
    KNOWLEDGE_DIR,
    MANIFEST,
    VECTORS_FILE,
    chunk_texts,
    load_articles,
    parse_article,
)

log = logging.getLogger(__name__)

PER_INTENT = 2
BITEXT_LICENCE = "CDLA-Sharing-1.0"
BITEXT_URI = "s3://supportflow-knowledge/bitext/{id}.md"
_MIN_CHARS, _MAX_CHARS = 350, 1400
# Placeholders that name a contact channel or the company become generic wording; the others are the
# names of screens or buttons ({{Order History}}) and keep their label without braces.
_GENERIC = {
    "Customer Support Phone Number": "our customer support phone line",
    "Customer Support Email": "our support email address",
    "Customer Support Email Address": "our support email address",
    "Customer Support Availability": "during our opening hours",
    "Customer Support Hours": "during our opening hours",
    "Live Chat": "live chat",
    "Live Chat Support": "live chat",
    "Website Name": "our website",
    "Website URL": "our website",
    "Company Name": "our company",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
_SPECIFIC = re.compile(r"Anonymized|\d{5,}|\{\{(?:Person|Name|Client|Date|Money|Amount)")


_DOUBLED = re.compile(r"\b(?:our|the|your) (our|the) ", re.I)
_TITLES = {
    "cancel_order": "Cancelling an order",
    "change_order": "Changing an order",
    "change_shipping_address": "Changing the shipping address",
    "check_cancellation_fee": "Checking cancellation fees",
    "check_invoice": "Checking an invoice",
    "check_payment_methods": "Which payment methods are accepted",
    "check_refund_policy": "Checking the refund policy",
    "complaint": "Filing a complaint",
    "contact_customer_service": "Contacting customer service",
    "contact_human_agent": "Reaching a human agent",
    "create_account": "Creating an account",
    "delete_account": "Deleting an account",
    "delivery_options": "Delivery options",
    "delivery_period": "How long delivery takes",
    "edit_account": "Editing account details",
    "get_invoice": "Getting an invoice",
    "get_refund": "Getting a refund",
    "newsletter_subscription": "Newsletter subscription",
    "payment_issue": "Solving a payment issue",
    "place_order": "Placing an order",
    "recover_password": "Recovering a password",
    "registration_problems": "Registration problems",
    "review": "Leaving a review",
    "set_up_shipping_address": "Setting up a shipping address",
    "switch_account": "Switching accounts",
    "track_order": "Tracking an order",
    "track_refund": "Tracking a refund",
}


def clean_placeholders(text: str) -> str:
    """Generic wording for contact placeholders, the bare label for screen and button names."""
    replaced = _PLACEHOLDER.sub(lambda m: _GENERIC.get(m.group(1), m.group(1)), text)
    return _DOUBLED.sub(lambda m: f"{m.group(1)} ", replaced)


def _row_key(intent: str, response: str) -> str:
    return hashlib.sha256(f"{intent}\x1f{response}".encode()).hexdigest()


def representative_responses(path: Path = DATA_CSV, per_intent: int = PER_INTENT) -> dict[str, list[str]]:
    """Per intent, ``per_intent`` general answers (no order ids or names), chosen by a stable row hash."""
    candidates: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            response = row["response"].strip()
            if _SPECIFIC.search(response) or not _MIN_CHARS <= len(response) <= _MAX_CHARS:
                continue
            candidates[row["intent"]].append((_row_key(row["intent"], response), response))
    return {intent: [text for _, text in sorted(rows)[:per_intent]] for intent, rows in sorted(candidates.items())}


def _title(intent: str, number: int) -> str:
    words = _TITLES.get(intent) or intent.replace("_", " ").capitalize()
    return f"{words}: support answer {number}"


def _bitext_article(intent: str, number: int, response: str) -> str:
    article_id = f"bitext-{intent.replace('_', '-')}-{number}"
    text = clean_placeholders(response).replace("\r\n", "\n")
    header = [
        "---",
        f"id: {article_id}",
        f"title: {_title(intent, number)}",
        f"uri: {BITEXT_URI.format(id=article_id)}",
        f"category: {intent}",
        "source: bitext",
        f"licence: {BITEXT_LICENCE}",
        "---",
    ]
    return "\n".join(header) + "\n" + text.strip() + "\n"


def write_bitext_articles(directory: Path = ARTICLES_DIR) -> int:
    """(Re)write the Bitext-derived articles; returns how many."""
    for stale in directory.glob("bitext-*.md"):
        stale.unlink()
    written = 0
    for intent, responses in representative_responses().items():
        for number, response in enumerate(responses, start=1):
            body = _bitext_article(intent, number, response)
            article = parse_article(body)
            (directory / f"{article.id}.md").write_text(body, encoding="utf-8")
            written += 1
    return written


def write_manifest(directory: Path = ARTICLES_DIR, manifest: Path = MANIFEST) -> int:
    """List every article file with its id, title, uri, source, licence and SHA-256."""
    entries = []
    for path in sorted(directory.glob("*.md")):
        raw = path.read_text(encoding="utf-8")
        article = parse_article(raw)
        entries.append(
            {
                "id": article.id,
                "title": article.title,
                "uri": article.uri,
                "category": article.category,
                "source": article.source,
                "licence": article.licence,
                "file": f"articles/{path.name}",
                "sha256": hashlib.sha256(raw.encode()).hexdigest(),
            }
        )
    body = {"name": "supportflow-knowledge", "articles": entries}
    manifest.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(entries)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the Bitext articles and the manifest, then the chunk vectors if stale."""
    from supportflow.bedrock_offline.embedding import Embedder  # noqa: PLC0415  (loads the model)
    from supportflow.bedrock_offline.vector_files import (  # noqa: PLC0415
        model_identity,
        read_shipped,
        texts_digest,
        write_shipped,
    )

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = list(sys.argv[1:] if argv is None else argv)
    if "--vectors-only" not in args:
        log.info("bitext articles written", extra={"count": write_bitext_articles()})
        log.info("manifest written", extra={"count": write_manifest()})
    texts = chunk_texts(load_articles(KNOWLEDGE_DIR))
    model = model_identity()
    digest = texts_digest(texts, model)
    if read_shipped(VECTORS_FILE, digest, len(texts)) is None:
        write_shipped(VECTORS_FILE, Embedder().embed_many(texts), digest, model)
    log.info("chunk vectors current", extra={"chunks": len(texts)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
