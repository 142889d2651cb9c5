"""Regenerate catalog.jsonl: the sample products and help items the local stack seeds its catalog with.

Deterministic (no randomness, no network): ``python data/catalog/generate.py`` rewrites the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).with_name("catalog.jsonl")

# (category, product nouns, materials/variants, what it is for)
PRODUCT_LINES: list[tuple[str, list[str], list[str], str]] = [
    (
        "audio",
        ["wireless headphones", "earbuds", "bluetooth speaker", "soundbar"],
        ["matte black", "white", "navy"],
        "listening at home and on the move, with up to {n} hours of battery",
    ),
    (
        "kitchen",
        ["kettle", "blender", "coffee grinder", "toaster"],
        ["stainless steel", "brushed copper", "enamel"],
        "everyday cooking, with a {n}-month warranty and dishwasher-safe parts",
    ),
    (
        "outdoor",
        ["hiking backpack", "tent", "sleeping bag", "trekking poles"],
        ["ripstop nylon", "recycled polyester", "aluminium"],
        "weekend trips, rated for {n} degrees and packed into a compression sack",
    ),
    (
        "office",
        ["laptop stand", "desk lamp", "ergonomic chair", "monitor arm"],
        ["aluminium", "oak veneer", "steel"],
        "long working days, adjustable in {n} positions",
    ),
    (
        "fitness",
        ["running shoes", "yoga mat", "kettlebell", "resistance bands"],
        ["cushioned", "non-slip", "cast iron"],
        "training at home, tested over {n} sessions",
    ),
    (
        "home",
        ["air purifier", "robot vacuum", "smart thermostat", "humidifier"],
        ["compact", "quiet", "app-connected"],
        "rooms up to {n} square metres, with a washable filter",
    ),
    (
        "kids",
        ["building blocks set", "balance bike", "night light", "puzzle"],
        ["wooden", "recycled plastic", "soft silicone"],
        "children from {n} years, with rounded edges and no small parts",
    ),
    (
        "garden",
        ["hose reel", "pruning shears", "raised bed", "solar lantern"],
        ["galvanised", "bamboo", "weatherproof"],
        "balconies and gardens, guaranteed for {n} seasons",
    ),
]
SIZES = ["", "mini ", "pro ", "max ", "travel ", "family "]

HELP_TOPICS: list[tuple[str, str]] = [
    (
        "Returning an item",
        "Items can be returned within {n} days of delivery in their original packaging. Start a return from "
        "your order page, print the label and drop the parcel at any partner point; the refund follows "
        "once it is inspected.",
    ),
    (
        "Tracking a delivery",
        "Every order gets a tracking link by email within {n} hours of dispatch. If the link shows no "
        "movement for three working days, contact support with your order number.",
    ),
    (
        "Changing a delivery address",
        "The address can be changed until the order is packed, usually within {n} hours. After "
        "that, the carrier can redirect the parcel for a small fee.",
    ),
    (
        "Warranty claims",
        "Products carry a {n}-month warranty against manufacturing defects. Send a photo of the fault and the "
        "order number; we repair, replace or refund.",
    ),
    (
        "Payment methods",
        "We accept cards, bank transfer and two buy-now-pay-later providers. A card payment is authorised at "
        "checkout and captured at dispatch, within {n} days.",
    ),
    (
        "Account security",
        "Turn on two-step sign-in from your account settings. We never ask for your password by email; "
        "report suspicious messages within {n} hours so we can lock the account.",
    ),
    (
        "Damaged on arrival",
        "If a parcel arrives damaged, keep the packaging and report it within {n} days with photos. We "
        "send a replacement at once, no return needed for items under the damage threshold.",
    ),
    (
        "Subscriptions",
        "Subscriptions renew every {n} weeks and can be paused, skipped or cancelled from the account page "
        "before the next dispatch date.",
    ),
    (
        "Gift cards",
        "Gift cards are valid for {n} months, can be combined with other payment methods and cannot be exchanged "
        "for cash.",
    ),
    (
        "Price match",
        "We match a lower price from a listed competitor within {n} days of purchase for the identical item in "
        "stock; send the link to support.",
    ),
]
HELP_VARIANTS = [
    "",
    " (marketplace sellers)",
    " (business accounts)",
    " outside the EU",
    " for pre-orders",
    " on sale items",
]


def products() -> list[dict[str, str]]:
    """Every product line by noun by variant by size, each with its own numbers."""
    items: list[dict[str, str]] = []
    index = 0
    for category, nouns, variants, purpose in PRODUCT_LINES:
        for noun in nouns:
            for variant in variants:
                for size in SIZES[: 2 + (index % 3)]:
                    index += 1
                    n = 6 + (index * 7) % 40
                    title = f"{variant.capitalize()} {size}{noun}"
                    text = (
                        f"A {size}{noun} in {variant}, made for {purpose.format(n=n)}. "
                        f"Sold in the {category} department; ships in {1 + index % 4} working days."
                    )
                    items.append(
                        {
                            "item_id": f"P{index:04d}",
                            "kind": "product",
                            "category": category,
                            "title": title,
                            "text": text,
                        }
                    )
    return items


def help_items() -> list[dict[str, str]]:
    """Every help topic by audience variant."""
    items: list[dict[str, str]] = []
    index = 0
    for title, body in HELP_TOPICS:
        for variant in HELP_VARIANTS:
            index += 1
            n = 2 + (index * 5) % 30
            items.append(
                {
                    "item_id": f"H{index:04d}",
                    "kind": "help",
                    "category": "help",
                    "title": f"{title}{variant}",
                    "text": body.format(n=n),
                }
            )
    return items


def main() -> None:
    """Write catalog.jsonl."""
    rows = products() + help_items()
    OUT.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
