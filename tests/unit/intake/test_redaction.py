"""PII redaction: what must go, and what must stay (order ids, dates, amounts)."""

from __future__ import annotations

import pytest

from workers.intake.redaction import DEFAULT_REGIONS, luhn_valid, phone_regions, redact_pii


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to dana.fox+support@example.co.uk please", "email"),
        ("card 4111 1111 1111 1111 was charged", "card"),
        ("card 5500-0000-0000-0004 was charged", "card"),
        ("amex 378282246310005", "card"),
        ("call +1 415 555 0132", "phone"),
        ("call (415) 555-0132", "phone"),
        ("call 415.555.0132", "phone"),
        ("call +44 20 7946 0958", "phone"),
        ("appelez le 06 12 34 56 78", "phone"),
        ("my mobile is 4155550132", "phone"),
        ("call 1-800-555-0199", "phone"),
        ("call 800 555 0199", "phone"),
        ("London office 020 7946 0958", "phone"),
        ("mobile 07700 900123", "phone"),
        ("Festnetz 0171 1234567", "phone"),
        ("Sydney (02) 9876 5432", "phone"),
        ("+91 98765 43210", "phone"),
        ("call me at 555-0132", "phone"),
        ("IBAN DE89 3704 0044 0532 0130 00", "iban"),
        ("ssn 123-45-6789", "ssn"),
        ("write to josé.müller@exämple.de please", "email"),
        ("邮箱 用户@例子.广告 谢谢", "email"),
        ("ring me on 07700900123 tonight", "phone"),
        ("mon portable 0612345678 merci", "phone"),
        ("4155552671 is my cell", "phone"),
        ("iban de89 3704 0044 0532 0130 00 please", "iban"),
        ("IBAN DE89-3704-0044-0532-0130-00 please", "iban"),
        ("card 4111.1111.1111.1111 was charged", "card"),
        ("order 0612345678 is my number", "phone"),
    ],
)
def test_pii_is_replaced_by_a_typed_placeholder(text: str, kind: str) -> None:
    redacted = redact_pii(text)
    assert redacted.counts == {kind: 1}
    assert f"[{kind.upper()}]" in redacted.text
    assert not any(char.isdigit() for char in redacted.text.split("[")[-1].split("]")[1][:3])


@pytest.mark.parametrize(
    "text",
    [
        "order #8841 arrived broken",
        "order 123456789 is late",
        "card 4111-1111-1111-1112 fails Luhn so it is not a card",
        "tracking 1Z999AA10123456784",
        "ordered on 2024-03-15, paid $1,299.99",
        "version 10.2.3 crashes",
        "order #123-456-7890 shipped",
        "I will call about order 12345678 tomorrow",
        "ordered 2 items on 2024-03-15",
        "order #A-10023 and ORD-2024-5531 both late",
        "ticket T-2001 from 192.168.0.1",
    ],
)
def test_non_pii_numbers_survive(text: str) -> None:
    assert redact_pii(text).text == text


def test_several_kinds_are_counted_separately() -> None:
    redacted = redact_pii("a@b.io, c@d.io, card 4111111111111111, call +33 6 12 34 56 78")
    assert redacted.counts == {"email": 2, "card": 1, "phone": 1}
    assert "@" not in redacted.text


def test_phone_regions_put_the_customers_first_then_the_defaults() -> None:
    # Given a country and a language, When regions are chosen, Then the country's come first, then the language's
    regions = phone_regions(country="be", language="nl-NL")
    assert regions[:2] == ("BE", "NL")
    assert set(DEFAULT_REGIONS) <= set(regions)
    assert phone_regions(language="pt")[:2] == ("PT", "BR")


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
