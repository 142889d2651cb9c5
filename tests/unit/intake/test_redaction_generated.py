"""The redactor against generated PII: every format, separator, case and surrounding language, not a fixed list."""

from __future__ import annotations

import re

import phonenumbers
from hypothesis import assume, given, reject, settings
from hypothesis import strategies as st
from stdnum import iban, luhn
from stdnum.us import ssn

from workers.intake.redaction import DEFAULT_REGIONS, identifier_pii, phone_regions, redact_pii

SEPARATORS = st.sampled_from([" ", ".", "-", ""])
# Sentences around the PII, in several languages and scripts; spaces keep the PII a token of its own.
AROUND = st.sampled_from(
    [
        "Please contact me on {} today.",
        "Mi número es {} gracias",
        "Meine Angabe: {}, bitte prüfen",
        "Voici {} — merci beaucoup",
        "请联系 {} 谢谢",
        "連絡先は {} です",
        "Мой номер {} спасибо",
        "{}",
    ]
)
PHONE_REGIONS = ("US", "GB", "FR", "DE", "ES", "IT", "NL", "AU", "IN", "BR", "JP", "PL")
PHONE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
PHONE_FORMATS = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)
IBAN_BBAN_DIGITS = {"DE": 18, "AT": 16, "NL": None, "GB": None, "CH": 17, "PL": 24}
IBAN_BANK_LETTERS = {"NL": ("ABNA", 10), "GB": ("NWBK", 14)}


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def with_case(text: str, case: str) -> str:
    return {"upper": text.upper(), "lower": text.lower(), "as is": text}[case]


@st.composite
def phone_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A valid number of some region, written in a national or international style with any separator."""
    region = draw(st.sampled_from(PHONE_REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(PHONE_TYPES)))
    if example is None:
        reject()
    national = str(example.national_number)
    tail = str(draw(st.integers(0, 999))).zfill(3)
    number = phonenumbers.parse(f"+{example.country_code}{national[:-3]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    written = phonenumbers.format_number(number, draw(st.sampled_from(PHONE_FORMATS)))
    written = re.sub(r"[ -]", draw(SEPARATORS), written)
    return written, region


@st.composite
def emails(draw: st.DrawFn) -> str:
    """Addresses with ASCII and non-ASCII local parts and domains (IDN), in any case."""
    letters = st.sampled_from("abcxyzéüßçøñåłž" + "用户名例子" + "пример")
    word = st.text(letters, min_size=1, max_size=8)
    local = ".".join(draw(st.lists(word, min_size=1, max_size=3)))
    labels = draw(st.lists(word, min_size=1, max_size=2))
    tld = draw(st.sampled_from(["de", "com", "co.uk", "广告", "рф", "ORG"]))
    return with_case(f"{local}@{'.'.join(labels)}.{tld}", draw(st.sampled_from(["upper", "lower", "as is"])))


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """Valid IBANs of several countries, grouped by four with any separator, in upper or lower case."""
    country = draw(st.sampled_from(sorted(IBAN_BBAN_DIGITS)))
    bank, count = IBAN_BANK_LETTERS.get(country, ("", IBAN_BBAN_DIGITS[country] or 0))
    bban = bank + "".join(str(draw(st.integers(0, 9))) for _ in range(count))
    number = f"{country}{iban.calc_check_digits(country + '00' + bban)}{bban}"
    assume(iban.is_valid(number))
    grouped = draw(SEPARATORS).join(number[i : i + 4] for i in range(0, len(number), 4))
    return with_case(grouped, draw(st.sampled_from(["upper", "lower"])))


@st.composite
def cards(draw: st.DrawFn) -> str:
    """Luhn-valid card numbers (Visa, Mastercard, Amex, Discover) grouped by spaces, dots, dashes or nothing."""
    prefix, length = draw(st.sampled_from([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)]))
    body = prefix + "".join(str(draw(st.integers(0, 9))) for _ in range(length - len(prefix) - 1))
    number = body + luhn.calc_check_digit(body)
    groups = [number[:4], number[4:10], number[10:]] if length == 15 else [number[i : i + 4] for i in range(0, 16, 4)]
    return draw(SEPARATORS).join(groups)


@st.composite
def ssns(draw: st.DrawFn) -> str:
    """US social security numbers with dashes or spaces."""
    area = draw(st.integers(1, 899).filter(lambda value: value != 666))
    number = f"{area:03d}{draw(st.integers(1, 99)):02d}{draw(st.integers(1, 9999)):04d}"
    assume(ssn.is_valid(number))
    separator = draw(st.sampled_from(["-", " "]))
    return f"{number[:3]}{separator}{number[3:5]}{separator}{number[5:]}"


@settings(max_examples=150, deadline=None)
@given(phone=phone_numbers(), around=AROUND)
def test_generated_phone_numbers_are_redacted_for_the_customers_region(phone: tuple[str, str], around: str) -> None:
    # Given a valid phone number of the customer's country, written any way, inside a sentence
    written, region = phone
    # When the text is redacted with that country's regions
    redacted = redact_pii(around.format(written), phone_regions(country=region))
    # Then no run of its digits is left and a phone was counted
    assert redacted.counts.get("phone", 0) >= 1, written
    assert digits(written)[-7:] not in digits(redacted.text)


@settings(max_examples=100, deadline=None)
@given(email=emails(), around=AROUND)
def test_generated_emails_are_redacted(email: str, around: str) -> None:
    # Given an email address of any script and case inside a sentence, When it is redacted
    redacted = redact_pii(around.format(email))
    # Then the address is gone and counted
    assert "@" not in redacted.text and redacted.counts.get("email") == 1


@settings(max_examples=100, deadline=None)
@given(number=ibans(), around=AROUND)
def test_generated_ibans_are_redacted(number: str, around: str) -> None:
    # Given an IBAN in any grouping and case, When the text is redacted, Then it is one [IBAN]
    redacted = redact_pii(around.format(number))
    assert redacted.counts == {"iban": 1}, number
    assert digits(number)[-8:] not in digits(redacted.text)


@settings(max_examples=100, deadline=None)
@given(number=cards(), around=AROUND)
def test_generated_card_numbers_are_redacted(number: str, around: str) -> None:
    # Given a Luhn-valid card number in any grouping, When the text is redacted, Then it is one [CARD]
    redacted = redact_pii(around.format(number))
    assert redacted.counts == {"card": 1}, number
    assert digits(number)[-8:] not in digits(redacted.text)


@settings(max_examples=60, deadline=None)
@given(number=ssns(), around=AROUND)
def test_generated_ssns_are_redacted(number: str, around: str) -> None:
    # Given a valid SSN with dashes or spaces, When the text is redacted, Then its digits are gone
    redacted = redact_pii(around.format(number))
    assert sum(redacted.counts.values()) == 1, number
    assert digits(number) not in digits(redacted.text)


@st.composite
def order_ids(draw: st.DrawFn) -> str:
    """Ids as help desks and shops write them: #A-10023, ORD-2024-5531, INV/2024/00017, #88411234."""
    letters = draw(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=1, max_size=4))
    year = draw(st.integers(2000, 2030))
    serial = draw(st.integers(1, 99999))
    return draw(
        st.sampled_from(
            [
                f"#{letters}-{serial}",
                f"{letters}-{year}-{serial}",
                f"{letters}{serial:05d}",
                f"#{draw(st.integers(1, 10**12))}",
                f"{year}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}",
                f"v{draw(st.integers(0, 20))}.{draw(st.integers(0, 20))}.{draw(st.integers(0, 99))}",
                f"${draw(st.integers(1, 9999))}.{draw(st.integers(0, 99)):02d}",
            ]
        )
    )


@settings(max_examples=150, deadline=None)
@given(identifier=order_ids(), around=AROUND)
def test_generated_order_ids_dates_and_amounts_survive(identifier: str, around: str) -> None:
    # Given an order id, a date, a version or an amount in a sentence, When the text is redacted
    text = around.format(identifier)
    # Then nothing is taken out
    assert redact_pii(text).text == text


@settings(max_examples=60, deadline=None)
@given(email=emails(), phone=phone_numbers(), order=order_ids())
def test_identifier_fields_that_are_pii_are_recognised(email: str, phone: tuple[str, str], order: str) -> None:
    # Given identifiers that are an email, a phone number (international or with its trunk prefix), or an
    # opaque order id
    written, region = phone
    assume(written.startswith(("+", "0", "(0")))
    # When each is checked, Then the personal ones are named and the opaque one is not
    assert identifier_pii(email) == "email"
    assert identifier_pii(written, (region, *DEFAULT_REGIONS)) == "phone"
    assert identifier_pii(order.lstrip("#$")) is None
