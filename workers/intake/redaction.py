"""PII redaction: runs before any model or log sees ticket text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# 13-19 digits, optionally grouped by spaces or dashes; confirmed with the Luhn check below.
CARD_CANDIDATE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
US_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")
# International (+44 20 7946 0958), North American ((415) 555-0132, 415 555 0132, 1-800-555-0199) and
# national trunk-prefix groupings (020 7946 0958, 07700 900123, (02) 9876 5432, 06 12 34 56 78).
# Bare digit runs, and anything right after "#", are left alone: they are usually order or ticket ids.
PHONE = re.compile(
    r"(?<![\w+#])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    r"|\(0\d{1,4}\) ?\d{3,4} ?\d{3,4}"
    r"|0\d(?:[ .]\d{2}){4}"
    r"|0\d{1,4} \d{3,4} ?\d{3,4}"
    r")(?!\w)"
)
# A number counts as a phone number without a recognisable grouping only right after a word that says
# so ("call me at 555-0132", "mobile 4155550132"), unless an id word sits in between ("call about order 123").
CUED_PHONE = re.compile(
    r"(?i)(?P<cue>\b(?:call|phone|tel|telephone|mobile|cell|whatsapp|text|sms|reach me)\b(?P<gap>[^\d\n#]{0,20}))"
    r"(?P<number>\d[\d .-]{5,16}\d)\b"
)
_ID_WORDS = re.compile(r"(?i)\b(?:order|invoice|ticket|ref|reference|tracking|account|case|number of)\b")


@dataclass(frozen=True)
class Redacted:
    """Text with PII replaced by typed placeholders, and how many of each kind were found."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


def luhn_valid(digits: str) -> bool:
    """True if the digit string passes the Luhn checksum used by payment cards."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def redact_pii(text: str) -> Redacted:
    """Replace emails, payment cards, IBANs, SSNs and phone numbers with [EMAIL], [CARD], …"""
    counts: Counter[str] = Counter()

    def replace_card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            counts["card"] += 1
            return "[CARD]"
        return match.group(0)

    def counted(kind: str, placeholder: str) -> Callable[[re.Match[str]], str]:
        def replace(_: re.Match[str]) -> str:
            counts[kind] += 1
            return placeholder

        return replace

    text = EMAIL.sub(counted("email", "[EMAIL]"), text)
    text = CARD_CANDIDATE.sub(replace_card, text)
    text = IBAN.sub(counted("iban", "[IBAN]"), text)
    text = US_SSN.sub(counted("ssn", "[SSN]"), text)
    text = PHONE.sub(counted("phone", "[PHONE]"), text)

    def replace_cued(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group("number"))
        if _ID_WORDS.search(match.group("gap")) or not 7 <= len(digits) <= 15:
            return match.group(0)
        counts["phone"] += 1
        return f"{match.group('cue')}[PHONE]"

    text = CUED_PHONE.sub(replace_cued, text)
    return Redacted(text=text, counts=dict(counts))
