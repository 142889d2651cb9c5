"""Text utilities: language, sentences, keywords and extractive summaries."""

from __future__ import annotations

import re
from collections import Counter

from workers.shared import language as shared_language


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Function words of the languages the pipeline sees most, plus support-mail filler: never a keyword.
_ALL_STOP = _words(
    "the and to of is my i you it for in on that this with have not was can be how from your what where please"
    " are me we our at an if will would could el la de que y en los las mi por para con una un no es se del"
    " pedido lo al pero le les et je mon ma est pas une pour des du vous avec qui dans der die das und ich"
    " nicht ist mein meine ein eine mit den zu auf für sie von bitte o a os as do da em um uma meu minha com"
    " não é il di e non per mio mia sono della ho è che het een van niet mijn op voor dat zijn te ik met"
    " hi hello dear thanks thank like want need should just also get got im i'm"
    " there their they them when which who why all any some been being does did"
    " has had about as by or so but us"
)


def detect_language(text: str) -> str:
    """BCP 47 primary language (the workers' detector); English when there is too little to tell."""
    language = shared_language.detect_language(text)
    return "en" if language == shared_language.UNDETERMINED else language


def sentences(text: str) -> list[str]:
    """Split into sentences on terminal punctuation and line breaks."""
    parts = re.split(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n+", text)
    return [p.strip(" -*•\t") for p in parts if len(p.strip(" -*•\t")) > 2]


def keywords(text: str, limit: int = 5) -> list[str]:
    """Most frequent content words (ties broken by first appearance), a cheap topic list."""
    words = [w for w in re.findall(r"[^\W\d_]{3,}", text.lower()) if w not in _ALL_STOP]
    counts = Counter(words)
    first = {w: i for i, w in reversed(list(enumerate(words)))}
    ranked = sorted(counts, key=lambda w: (-counts[w], first[w]))
    return ranked[:limit]


def summarise(text: str, limit: int = 240) -> str:
    """Extractive summary: the leading sentences that fit in ``limit`` characters."""
    out: list[str] = []
    for sentence in sentences(text):
        candidate = " ".join([*out, sentence])
        if len(candidate) > limit:
            break
        out.append(sentence)
    if not out:
        clipped = text.strip()[:limit]
        return clipped.rsplit(" ", 1)[0] if len(text.strip()) > limit and " " in clipped else clipped
    return " ".join(out)
