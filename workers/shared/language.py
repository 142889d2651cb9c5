"""A cheap language guess (script, then function words), shared by intake and the offline Bedrock."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The most frequent function words of each language: enough to tell them apart on a sentence or two.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and to of is my i you it for in on that this with have not was can be how from your what"
        " where please are me we our at an if will would could"
    ),
    "es": _words("el la de que y en los las mi por para con una un no es se del pedido lo al pero"),
    "fr": _words("le la les de et je mon ma est pas une un pour que des du vous avec en qui dans"),
    "de": _words("der die das und ich nicht ist mein meine ein eine mit den zu auf für sie von bitte"),
    "pt": _words("o a os as de que e do da em um uma meu minha para com não por é"),
    "it": _words("il la di che e non un una per mio mia sono con del della ho è"),
    "nl": _words("de het een en van ik niet is mijn met op voor dat zijn te"),
}
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)
UNDETERMINED = "und"


def detect_language(text: str) -> str:
    """A BCP 47 primary tag for the text (``und`` when there is too little to tell)."""
    for tag, script in _SCRIPTS:
        # Kana before Han: Japanese text mixes both, Chinese has no kana.
        if script.search(text):
            return tag
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return UNDETERMINED
    scores = {tag: sum(word in stop for word in words) for tag, stop in STOPWORDS.items()}
    best = max(scores, key=lambda tag: scores[tag])
    if scores[best] == 0:
        return UNDETERMINED
    return best
