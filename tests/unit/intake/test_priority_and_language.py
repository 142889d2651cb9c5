"""Priority is the upstream's when given and derived from content when not; language is guessed."""

from __future__ import annotations

import pytest

from workers.intake.priority import derive_priority, settle_priority
from workers.shared.language import detect_language


@pytest.mark.parametrize(
    "text",
    [
        "Our production site is down and customers cannot check out!",
        "Someone made an unauthorized charge on my account, I think it is fraud",
        "My account was hacked and the password changed",
        "I will take legal action if this is not fixed",
        "URGENT please help, you charged me twice",
    ],
)
def test_urgent_content_is_high(text: str) -> None:
    assert derive_priority(text, "standard").priority == "high"


@pytest.mark.parametrize(
    "text",
    [
        "How do I unsubscribe from the newsletter? No rush.",
        "Just wondering what your opening hours are",
        "I have a suggestion for a feature request, whenever you get a chance",
    ],
)
def test_idle_questions_are_low(text: str) -> None:
    assert derive_priority(text, "standard").priority == "low"


def test_plain_requests_are_normal() -> None:
    decision = derive_priority("Please change the delivery address of my order to my new flat.", "standard")
    assert (decision.priority, decision.reasons) == ("normal", ())


def test_vip_tier_lifts_a_signal_to_high() -> None:
    text = "This is the third time I ask about the dashboard"
    assert derive_priority(text, "free").priority == "normal"
    assert derive_priority(text, "enterprise").priority == "high"


def test_upstream_priority_wins_and_says_so() -> None:
    decision = settle_priority("low", "URGENT the site is down", "enterprise")
    assert (decision.priority, decision.source) == ("low", "upstream")
    assert settle_priority(None, "URGENT the site is down", "free").source == "derived"


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("Hi, how do I unsubscribe from your newsletter?", "en"),
        ("Hola, mi pedido todavía no ha llegado", "es"),
        ("Bonjour, je voudrais annuler ma commande", "fr"),
        ("Die Rechnung für meine Bestellung ist falsch", "de"),
        ("Olá, meu pedido não chegou", "pt"),
        ("ご注文の商品が届きません", "ja"),
        ("12345 !!!", "und"),
        ("Gdzie jest moja paczka? Zamówiłem ją tydzień temu.", "pl"),
        ("Kargom nerede? Siparişim iki haftadır gelmedi.", "tr"),  # noqa: RUF001 (Turkish dotless i)
        ("Gói hàng của tôi ở đâu?", "vi"),
        ("Мені двічі списали плату за підписку.", "uk"),
        ("Где моя посылка? Я жду уже неделю.", "ru"),
        ("بسته من کجاست؟", "fa"),
        ("أين طردي؟", "ar"),
    ],
)
def test_language_guess(text: str, tag: str) -> None:
    assert detect_language(text) == tag
