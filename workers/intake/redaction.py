"""PII redaction: runs before any model or log sees ticket text.

Candidates are found loosely (any script, any case, spaces / dots / dashes / no separators) and
confirmed by well-kept validators rather than by the pattern: ``python-stdnum`` for IBANs (country
length and mod 97), payment cards (Luhn) and US SSNs, Google's ``phonenumbers`` for phone numbers
(valid for one of the regions in play, national prefix where the region's numbering requires it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import ssn

# Unicode-aware: \w covers every script's letters and digits (josé.müller@exämple.de, 用户@例子.广告).
# Starts only where a local part can start, so a long run without '@' is scanned once, not once per character.
EMAIL = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@(?:[\w-]+\.)+\w{2,}")
# Two letters, two check digits, then 11-30 letters or digits in groups of any separator; confirmed by stdnum.
IBAN_CANDIDATE = re.compile(r"(?i)(?<!\w)[a-z]{2}\d{2}(?:[ .-]?[a-z0-9]){11,30}")
# 13-19 digits, grouped by spaces, dots or dashes (or not at all); confirmed by the Luhn check.
CARD_CANDIDATE = re.compile(r"(?<![\w#+(-])\d(?:[ .-]?\d){12,18}(?![\w-])")
SSN_CANDIDATE = re.compile(r"(?<![\w#-])\d{3}([ -])\d{2}\1\d{4}(?![\w-])")
# A number counts as a phone number without being valid for a region only right after a word that says
# so ("call me at 555-0132", "mobile 4155550132"), unless an id word sits in between ("call about order 123").
CUED_PHONE = re.compile(
    r"(?i)(?P<cue>\b(?:call|phone|tel|telephone|mobile|cell|whatsapp|text|sms|reach me)\b(?P<gap>[^\d\n#]{0,20}))"
    r"(?P<number>\+?\d[\d .-]{5,16}\d)\b"
)
# A number right after '#' is an order or ticket id (#8841, #A-10023), whatever it looks like. After a word
# such as "order" it is not exempt: an "order number" that is a valid phone or card number is redacted.
_ID_BEFORE = re.compile(r"#\s?$")
_ID_WORDS = re.compile(r"(?i)\b(?:order|invoice|ticket|ref|reference|tracking|account|case|number of)\b")
_SEPARATOR = re.compile(r"[ .-]")
# Where a phone number may be: a run of digits, spaces, dots, dashes and brackets, not inside a word or an
# id. At most 40 digits (two or three numbers side by side), so no single run costs more than a short one.
_PHONE_CANDIDATE = re.compile(r"(?<![\w#/-])[+(]?\d(?:[ ().-]{0,3}\d){6,39}\)?")
_LENIENCY = phonenumbers.Leniency.VALID
_MIN_PHONE_DIGITS = 7

# Regions whose national formats are tried when the customer's own is unknown; international (+…)
# numbers are found whatever the region.
DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "AU", "IN", "BR")
_REGIONS_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": ("US", "GB", "AU", "CA", "IE", "IN"),
    "fr": ("FR", "BE", "CH", "CA"),
    "de": ("DE", "AT", "CH"),
    "es": ("ES", "MX", "AR", "CO"),
    "pt": ("PT", "BR"),
    "it": ("IT", "CH"),
    "nl": ("NL", "BE"),
    "pl": ("PL",),
    "sv": ("SE",),
    "ja": ("JP",),
    "zh": ("CN", "TW", "HK"),
    "ko": ("KR",),
}


@dataclass(frozen=True)
class Redacted:
    """Text with PII replaced by typed placeholders, and how many of each kind were found."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn checksum used by payment cards."""
    return digits.isdigit() and luhn.is_valid(digits)


def phone_regions(country: str | None = None, language: str | None = None) -> tuple[str, ...]:
    """The regions whose national phone formats apply: the customer's first, then the default set."""
    regions: list[str] = []
    if country and len(country) == 2 and country.isalpha():
        regions.append(country.upper())
    if language:
        primary, _, rest = language.replace("_", "-").partition("-")
        subtag = rest.split("-")[-1] if rest else ""
        if len(subtag) == 2 and subtag.isalpha():
            regions.append(subtag.upper())
        regions.extend(_REGIONS_BY_LANGUAGE.get(primary.lower(), ()))
    regions.extend(DEFAULT_REGIONS)
    return tuple(dict.fromkeys(regions))


def _is_id_context(text: str, start: int) -> bool:
    return bool(_ID_BEFORE.search(text[max(0, start - 24) : start]))


def _group_ends(candidate: str) -> Iterable[int]:
    """Where a candidate may end, longest first: its end, then before each separator."""
    yield len(candidate)
    for match in reversed(list(_SEPARATOR.finditer(candidate))):
        yield match.start()


def _every_end(candidate: str) -> Iterable[int]:
    """Where a candidate may end, longest first: after any letter or digit."""
    return (end for end in range(len(candidate), 0, -1) if candidate[end - 1].isalnum())


def _replace_confirmed(
    text: str,
    pattern: re.Pattern[str],
    confirm: Callable[[str], bool],
    ends: Callable[[str], Iterable[int]],
    placeholder: str,
) -> tuple[str, int]:
    """Replace the longest confirmed prefix of each candidate; candidates that never confirm stay."""
    pieces: list[str] = []
    count = 0
    position = 0
    while match := pattern.search(text, position):
        candidate = match.group(0)
        end = next((end for end in ends(candidate) if confirm(candidate[:end])), None)
        if end is None or _is_id_context(text, match.start()):
            pieces.append(text[position : match.start() + 1])
            position = match.start() + 1
            continue
        pieces.append(text[position : match.start()] + placeholder)
        count += 1
        position = match.start() + end
    pieces.append(text[position:])
    return "".join(pieces), count


def _iban_confirmed(candidate: str) -> bool:
    return iban.is_valid(_SEPARATOR.sub("", candidate).upper())


def _card_confirmed(candidate: str) -> bool:
    digits = _SEPARATOR.sub("", candidate)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _ssn_confirmed(candidate: str) -> bool:
    return ssn.is_valid(_SEPARATOR.sub("", candidate))


def _phone_spans(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of numbers valid in one of ``regions`` (and not written where an id belongs)."""
    spans: list[tuple[int, int]] = []
    # The matcher runs on each run of digits only, not on the whole text once per region: a long,
    # digit-heavy ticket would otherwise cost seconds.
    for candidate in _PHONE_CANDIDATE.finditer(text):
        if sum(char.isdigit() for char in candidate.group(0)) < _MIN_PHONE_DIGITS:
            continue
        for region in regions:
            for match in phonenumbers.PhoneNumberMatcher(candidate.group(0), region, leniency=_LENIENCY):
                start, end = candidate.start() + match.start, candidate.start() + match.end
                if not _is_id_context(text, start) and not text[end : end + 1].isalnum():
                    spans.append((start, end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _replace_phones(text: str, regions: Sequence[str]) -> tuple[str, int]:
    spans = _phone_spans(text, regions)
    for start, end in reversed(spans):
        text = f"{text[:start]}[PHONE]{text[end:]}"
    count = len(spans)

    def replace_cued(match: re.Match[str]) -> str:
        nonlocal count
        digits = re.sub(r"\D", "", match.group("number"))
        if _ID_WORDS.search(match.group("gap")) or not _MIN_PHONE_DIGITS <= len(digits) <= 15:
            return match.group(0)
        count += 1
        return f"{match.group('cue')}[PHONE]"

    return CUED_PHONE.sub(replace_cued, text), count


def redact_pii(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> Redacted:
    """Replace emails, IBANs, payment cards, SSNs and phone numbers with [EMAIL], [IBAN], [CARD], …"""
    counts: Counter[str] = Counter()
    text, counts["email"] = EMAIL.subn("[EMAIL]", text)
    # IBANs before cards: an IBAN's digits can hold a Luhn-valid run.
    text, counts["iban"] = _replace_confirmed(text, IBAN_CANDIDATE, _iban_confirmed, _every_end, "[IBAN]")
    text, counts["card"] = _replace_confirmed(text, CARD_CANDIDATE, _card_confirmed, _group_ends, "[CARD]")
    text, counts["ssn"] = _replace_confirmed(text, SSN_CANDIDATE, _ssn_confirmed, _group_ends, "[SSN]")
    text, counts["phone"] = _replace_phones(text, regions)
    return Redacted(text=text, counts={kind: count for kind, count in counts.items() if count})


# An identifier is taken for a phone number only when written as one: international (+…) or with a trunk
# prefix (0…). Bare digit runs and Luhn-valid runs are common help-desk and order ids, so they stay ids.
_WHOLE_PHONE = re.compile(r"(?:\+|\(?0)[\d ().-]{6,24}")


def identifier_pii(value: str, regions: Sequence[str] = DEFAULT_REGIONS) -> str | None:
    """The PII kind an identifier *is* (an email or a phone number), or None for an opaque id."""
    if EMAIL.search(value):
        return "email"
    if _WHOLE_PHONE.fullmatch(value):
        for region in regions:
            try:
                number = phonenumbers.parse(value, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return "phone"
    return None
