"""Label names: normalising them, and the zero-shot prompts a label is compared with."""

from __future__ import annotations

# Request-shaped templates a label name is dropped into; a text is scored by its best-matching prompt.
# Chosen on the *train* parts of Bitext and banking77 (zero-shot, no bank): name + "I want help with" alone
# gave 62.3 % / 58.1 %, these seven 65.0 % / 61.0 %. Lexical overlap bonuses, mean/centroid pooling,
# hubness correction and e5 "passage:" prompts were tried and did not help both.
LABEL_TEMPLATES = (
    "{}",
    "I want help with {}",
    "I want to {}",
    "I have a question about {}",
    "How do I {}?",
    "I need {}",
    "customer request: {}",
)


def normalise_label(label: str) -> str:
    """Lower-case, separators folded to ``_`` so "Get Refund" and "get-refund" match ``get_refund``."""
    out = "".join(ch if ch.isalnum() else "_" for ch in label.strip().lower())
    return "_".join(part for part in out.split("_") if part)


def humanise(label: str) -> str:
    """``get_refund`` -> ``get refund``."""
    return normalise_label(label).replace("_", " ")


def label_prompts(label: str, description: str | None) -> list[str]:
    """The texts a label is compared with in zero-shot: its name in request templates, and its description."""
    name = humanise(label)
    variants = [template.format(name) for template in LABEL_TEMPLATES]
    if description:
        variants.append(f"{name}: {description}")
    return variants
