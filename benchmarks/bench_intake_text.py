"""Intake's text work per ticket: PII redaction on typical and adversarial 20,000-character bodies, language guess."""

from __future__ import annotations

import statistics
import time
from typing import Any

from workers.intake.redaction import phone_regions, redact_pii
from workers.shared.language import detect_language

BODIES = {
    "typical ticket": "Charged twice for order #8841 on card 4111 1111 1111 1111. Call me on +1 415 555 0132.",
    "20k prose": "The parcel did not arrive and nobody answers my emails. " * 360,
    "20k with 300 phone numbers": "My order 12345 arrived broken, phone 07700 900123. " * 400,
    "20k dates and order ids": "order 2024-03-15 ref 88411234 amount 1299.99; " * 430,
    "20k seven-digit groups": "1234567 " * 2500,
    "20k one digit run": "1234567890" * 2000,
}
RUNS = 5


def _median_ms(call: Any) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main(results: dict[str, Any] | None = None) -> None:
    """Median milliseconds per body, with the regions an English-speaking customer gets."""
    regions = phone_regions(language="en")
    redact_pii("warm up 07700 900123", regions)
    figures: dict[str, float] = {}
    for name, body in BODIES.items():
        figures[f"redact {name}"] = _median_ms(lambda body=body: redact_pii(body, regions))
        figures[f"language {name}"] = _median_ms(lambda body=body: detect_language(body))
    for name, value in figures.items():
        print(f"{name:<45} {value:9.1f} ms")
    if results is not None:
        results["intake_text_ms"] = figures


if __name__ == "__main__":
    main()
