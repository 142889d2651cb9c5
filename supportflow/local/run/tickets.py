"""Realistic tickets for ``supportflow run``: texts from the project's Bitext and banking77 data, seeded.

Each ticket wraps a real customer utterance with a customer of some tier, a channel, an upstream
priority or none, a language and sometimes PII; a few crafted tickets (an angry critical customer, a
legal threat, a Japanese ticket, a malformed event) are always among them.
"""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).resolve().parents[3] / "data"
BITEXT_CSV = DATA_DIR / "bitext" / "customer_support_intents.csv"
BANKING77_CSV = DATA_DIR / "banking77" / "train.csv"

Expected = Literal["accepted", "rejected"]
TIERS = ("free", "standard", "premium", "enterprise")
CHANNELS = ("email", "web", "chat", "phone", "api", "social")
UPSTREAM_PRIORITIES = (None, None, None, "high", "URGENT", "P2", "medium", "low", "p4")
SOURCES = ("helpdesk.zendesk", "helpdesk.freshdesk", "helpdesk.web")
FIRST_NAMES = ("Dana", "Luis", "Amara", "Kenji", "Olga", "Priya", "Tom", "Chloé", "Yusuf", "Ines")
LAST_NAMES = ("Fox", "García", "Okafor", "Sato", "Ivanova", "Rao", "Berg", "Martin", "Demir", "Costa")
# Short, hand-written tickets in other languages (the corpora are English).
OTHER_LANGUAGES: dict[str, tuple[str, ...]] = {
    "es": (
        "Hola, todavía no he recibido mi pedido y ya pasaron dos semanas. ¿Dónde está?",
        "Quiero cancelar mi suscripción y que me devuelvan el dinero del último mes.",
    ),
    "fr": (
        "Bonjour, je n'arrive pas à réinitialiser mon mot de passe, le lien ne marche pas.",
        "J'ai été débité deux fois pour la même commande, merci de me rembourser.",
    ),
    "de": (
        "Hallo, meine Karte wurde abgelehnt, obwohl genug Geld auf dem Konto ist.",
        "Ich möchte meine Lieferadresse ändern, die Bestellung ist noch nicht versandt.",
    ),
    "pt": ("Olá, a minha encomenda chegou danificada. Quero uma troca, por favor.",),
}
PII_SUFFIXES = (
    " You can reach me at {email}.",
    " Call me back on +1 415 555 {phone}.",
    " The card was 4111 1111 1111 1111.",
    " My email is {email} and my phone is +44 20 7946 {phone}.",
)


@dataclass(frozen=True)
class PlannedTicket:
    """One ticket to submit: its EventBridge-shaped event and what intake should make of it."""

    ticket_id: str
    correlation_id: str
    kind: str
    expected: Expected
    language: str
    tier: str
    has_pii: bool
    event: dict[str, Any]


@lru_cache(maxsize=1)
def _corpus() -> tuple[tuple[str, str], ...]:
    """(source, text) pairs from both data sets, in a fixed order."""
    texts: list[tuple[str, str]] = []
    with BITEXT_CSV.open(encoding="utf-8", newline="") as handle:
        texts.extend(("bitext", row["instruction"].strip()) for row in csv.DictReader(handle))
    with BANKING77_CSV.open(encoding="utf-8", newline="") as handle:
        texts.extend(("banking77", row["text"].strip()) for row in csv.DictReader(handle))
    return tuple((source, text) for source, text in texts if 8 <= len(text) <= 1000)


def generate_tickets(count: int, *, seed: int = 7, run_tag: str | None = None) -> list[PlannedTicket]:
    """``count`` tickets (at least the four crafted ones), the same for the same seed and tag."""
    rng = random.Random(seed)
    tag = run_tag or uuid.uuid4().hex[:6]
    corpus = _corpus()
    crafted = [_angry_critical, _legal_threat, _japanese, _malformed]
    tickets: list[PlannedTicket] = []
    for number in range(max(count, len(crafted))):
        ticket_id = f"T-{tag}-{number:04d}"
        if number < len(crafted):
            tickets.append(crafted[number](rng, ticket_id))
        else:
            tickets.append(_drawn(rng, ticket_id, corpus))
    # Crafted ones spread through the run rather than all first.
    rng.shuffle(tickets)
    return tickets


def _customer(rng: random.Random, tier: str) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    customer_id = f"C-{rng.randrange(100, 999)}"
    return {
        "customer_id": customer_id,
        "email": f"{first.lower()}.{rng.randrange(10, 99)}@example.com",
        "name": f"{first} {last}",
        "tier": tier,
    }


def _event(
    ticket_id: str, detail: dict[str, Any], *, source: str = "helpdesk.zendesk", tenant: str = "acme"
) -> dict[str, Any]:
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"supportflow-run/{ticket_id}"))
    now = datetime.now(UTC).isoformat()
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "TicketSubmitted",
        "source": source,
        "time": now,
        "resources": [],
        "detail": {
            "schema_version": "1.0",
            "event_id": event_id,
            "correlation_id": ticket_id,
            "tenant_id": tenant,
            "occurred_at": now,
            "ticket_id": ticket_id,
            **detail,
        },
    }


def _planned(
    ticket_id: str, kind: str, detail: dict[str, Any], *, language: str = "en", expected: Expected = "accepted"
) -> PlannedTicket:
    customer = detail.get("customer") or {}
    body = str(detail.get("body", ""))
    return PlannedTicket(
        ticket_id=ticket_id,
        correlation_id=ticket_id,
        kind=kind,
        expected=expected,
        language=language,
        tier=str(customer.get("tier", "?")),
        has_pii="@" in body or "4111" in body or "+1 415" in body or "+44" in body,
        event=_event(ticket_id, detail),
    )


def _drawn(rng: random.Random, ticket_id: str, corpus: tuple[tuple[str, str], ...]) -> PlannedTicket:
    tier = rng.choice(TIERS)
    customer = _customer(rng, tier)
    language = "en" if rng.random() < 0.8 else rng.choice(sorted(OTHER_LANGUAGES))
    if language == "en":
        source, text = rng.choice(corpus)
        kind = source
    else:
        text, kind = rng.choice(OTHER_LANGUAGES[language]), f"hand-written-{language}"
    if rng.random() < 0.3:
        text += rng.choice(PII_SUFFIXES).format(email=customer["email"], phone=f"{rng.randrange(0, 9999):04d}")
    detail: dict[str, Any] = {
        "channel": rng.choice(CHANNELS),
        "customer": customer,
        "subject": text.split(".")[0][:80] or "Support request",
        "body": text,
        "priority": rng.choice(UPSTREAM_PRIORITIES),
        # Upstream sometimes knows the language, sometimes not.
        "language": language if rng.random() < 0.5 else None,
        "attributes": {"source_data": kind},
    }
    return _planned(ticket_id, kind, detail, language=language)


def _angry_critical(rng: random.Random, ticket_id: str) -> PlannedTicket:
    detail = {
        "channel": "email",
        "customer": _customer(rng, "enterprise"),
        "subject": "SYSTEM DOWN - this is unacceptable",
        "body": "This is the THIRD time this week your service is down and our whole team cannot work. "
        "I am furious. Fix this NOW or we cancel the contract. Call me at +1 415 555 0199.",
        "priority": "critical",
        "language": "en",
    }
    return _planned(ticket_id, "crafted-angry-critical", detail)


def _legal_threat(rng: random.Random, ticket_id: str) -> PlannedTicket:
    detail = {
        "channel": "web",
        "customer": _customer(rng, "premium"),
        "subject": "Formal complaint before legal action",
        "body": "You charged my card 4111 1111 1111 1111 for a subscription I cancelled in March. If it is not "
        "refunded within 7 days my lawyer will file a claim and I will report you to the regulator.",
        "priority": None,
    }
    return _planned(ticket_id, "crafted-legal-threat", detail)


def _japanese(rng: random.Random, ticket_id: str) -> PlannedTicket:
    detail = {
        "channel": "chat",
        "customer": _customer(rng, "standard"),
        "subject": "注文がまだ届きません",
        "body": "先週注文した商品がまだ届いていません。追跡番号も更新されていません。至急確認してください。",
        "priority": None,
    }
    return _planned(ticket_id, "crafted-japanese", detail, language="ja")


def _malformed(rng: random.Random, ticket_id: str) -> PlannedTicket:
    # No body, an unknown channel, no customer tier: intake must reject it, not drop it.
    detail = {"channel": "fax", "customer": {"customer_id": f"C-{rng.randrange(100, 999)}"}, "subject": ""}
    return _planned(ticket_id, "crafted-malformed", detail, expected="rejected")
