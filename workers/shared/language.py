"""A cheap language guess (script, then letters and function words), shared by intake and the offline Bedrock.

Kept in-house on purpose: a statistical identifier (py3langid, ~100 languages) was measured against it
and is more accurate on short text, but adds numpy to the Lambda zip and over a second to a cold start.
This one covers the scripts of about twenty languages and eighteen Latin-script languages at no cost.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The most frequent function words of each language: enough to tell them apart on a sentence or two.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and to of is my i you it for in on that this with have not was can be how from your what"
        " where please are me we our at an if will would could pls thanks"
    ),
    "es": _words(
        "el la de que y en los las mi por para con una un no es se del pedido lo al pero dónde está me"
        " cada vez desde puedo quiero"
    ),
    "fr": _words(
        "le la les de et je mon ma est pas une un pour que des du vous avec en qui dans où me depuis"
        " chaque fois ce cette voudrais"
    ),
    "de": _words(
        "der die das und ich nicht ist mein meine ein eine mit den zu auf für sie von bitte wo wurde mir"
        " kann wenn jedes mal diesen"
    ),
    "pt": _words("o a os as de que e do da em um uma meu minha para com não por é onde está foi fui este esta"),
    "it": _words("il la di che e non un una per mio mia sono con del della ho è dov mi stato questo ogni volta"),
    "nl": _words("de het een en van ik niet is mijn met op voor dat zijn te waar ben deze keer wil als"),
    "sv": _words("och att det är jag inte en ett på för med min mitt har den var som av till gång gånger"),
    "da": _words("og at det er jeg ikke en et på for med min mit har den var som af til blevet hver gang"),
    "no": _words("og at det er jeg ikke en et på for med min mitt har den var som av til blitt hver gang meg"),
    "fi": _words("ja on ei se että minä olen minun kun mutta tämä oli missä minulta aina kuussa"),
    "pl": _words("i w nie się na jest z do to że jak mój moja za ale gdzie mnie razy tym"),
    "cs": _words("a je v se na to že jak můj moje mi bylo ale kde tento jsem"),
    "ro": _words("și în este nu la cu pe un o ca de meu mea am fost unde pentru această"),
    "hu": _words("a az és hogy nem van egy meg de hol ebben már is vagy"),
    "tr": _words("ve bir bu için ile değil ben benim ne nerede her iki kez çok da"),
    "id": _words("dan yang di ke saya tidak ini itu untuk dengan dari ada mana setiap kali bulan"),
    "vi": _words("của tôi và là không có được cho này những một ở đâu bị"),
}
# Letters that belong to few of the languages above; each one seen counts twice.
_LETTERS: dict[str, frozenset[str]] = {
    "es": frozenset("ñ¿¡"),
    "pt": frozenset("ãõ"),
    "de": frozenset("ß"),
    "fr": frozenset("œ"),
    "pl": frozenset("ąęłńśźż"),
    "cs": frozenset("ěřůť"),
    "ro": frozenset("ășşțţ"),
    "hu": frozenset("őű"),
    "tr": frozenset("ğı"),
    "da": frozenset("æ"),
    "vi": frozenset("ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"),
}
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Kana before Han: Japanese text mixes both, Chinese has no kana.
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    # Cyrillic: Ukrainian and Bulgarian letters before Russian.
    ("uk", re.compile(r"[іїєґІЇЄҐ]")),
    ("bg", re.compile(r"ъ(?![\s\S]*[ыэё])")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    # Arabic script: Persian letters before Arabic.
    ("fa", re.compile(r"[پچژگکی]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("bn", re.compile(r"[\u0980-\u09ff]")),
    ("ta", re.compile(r"[\u0b80-\u0bff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("ka", re.compile(r"[\u10a0-\u10ff]")),
    ("hy", re.compile(r"[\u0530-\u058f]")),
)
UNDETERMINED = "und"


def detect_language(text: str) -> str:
    """A BCP 47 primary tag for the text (``und`` when there is too little to tell)."""
    for tag, script in _SCRIPTS:
        if script.search(text):
            return tag
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return UNDETERMINED
    letters = set("".join(words))
    scores = {
        tag: sum(word in stop for word in words) + 2 * len(letters & _LETTERS.get(tag, frozenset()))
        for tag, stop in STOPWORDS.items()
    }
    best = max(scores, key=lambda tag: scores[tag])
    if scores[best] == 0:
        return UNDETERMINED
    return best
