"""The run's feedback stage: a few files uploaded under ``feedback/`` as the product takes them, each awaited.

A file ends when its ``FeedbackAnalyzed`` or ``FeedbackFailed`` event crosses the bus. The unreadable file is
expected to fail; a second distinct outcome event for one feedback id is a duplicate.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from supportflow.local.stack import PROJECT_ROOT, EmulatedStack
from workers.feedback.intake import CUSTOMER_META, FEEDBACK_META

SAMPLES = PROJECT_ROOT / "events" / "feedback"
FEEDBACK_PREFIX = "feedback/"
OUTCOME_TYPES = {"FeedbackAnalyzed": "analyzed", "FeedbackFailed": "failed"}
DEFAULT_FEEDBACK = 4
PDF_TEXT = (
    "I ordered a pair of wireless headphones last week. They arrived early, the sound is excellent and the "
    "support team answered my question within minutes. Thank you, I will order again."
)
UNREADABLE = b"\x89PNG\r\n\x1a\n not really an image"

Expected = Literal["analyzed", "failed"]


@dataclass(frozen=True)
class PlannedFeedback:
    """One feedback file of the run: its id, file name, bytes, customer and the end it should reach."""

    feedback_id: str
    kind: str
    suffix: str
    body: bytes
    customer_id: str
    expected: Expected


def pdf_available() -> bool:
    """Whether fpdf2 (a dev dependency) is installed to generate the PDF sample."""
    return importlib.util.find_spec("fpdf") is not None


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF with ``text`` in its text layer."""
    from fpdf import FPDF  # noqa: PLC0415 - optional dev dependency

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


Kind = tuple[str, str, bytes, Expected]


def _kinds() -> list[Kind]:
    text: Kind = ("text", ".txt", (SAMPLES / "late-delivery.txt").read_bytes(), "analyzed")
    markdown: Kind = ("markdown", ".md", (SAMPLES / "praise.md").read_bytes(), "analyzed")
    transcript: Kind = ("transcript", ".json", (SAMPLES / "support-call.json").read_bytes(), "analyzed")
    unreadable: Kind = ("unreadable", ".png", UNREADABLE, "failed")
    pdf: Kind = ("pdf", ".pdf", pdf_bytes(PDF_TEXT), "analyzed") if pdf_available() else markdown
    return [text, pdf, transcript, unreadable, markdown]


def plan_feedback(count: int, *, run_tag: str) -> list[PlannedFeedback]:
    """``count`` files cycling text, PDF (or markdown), transcript JSON, unreadable, markdown."""
    kinds = _kinds() if count > 0 else []
    planned = []
    for index in range(count):
        kind, suffix, body, expected = kinds[index % len(kinds)]
        planned.append(
            PlannedFeedback(
                feedback_id=f"F-{run_tag}-{index:03d}",
                kind=kind,
                suffix=suffix,
                body=body,
                customer_id=f"C-{run_tag}-{index % 3}",
                expected=expected,
            )
        )
    return planned


def submit_feedback(stack: EmulatedStack, planned: list[PlannedFeedback]) -> None:
    """Upload each file to the feedback bucket's ``feedback/`` prefix with its id and customer as metadata."""
    bucket = stack.physical_id("FeedbackBucket")
    for item in planned:
        stack.clients.s3.put_object(
            Bucket=bucket,
            Key=f"{FEEDBACK_PREFIX}{item.feedback_id}{item.suffix}",
            Body=item.body,
            Metadata={FEEDBACK_META: item.feedback_id, CUSTOMER_META: item.customer_id},
        )


def feedback_deployed(stack: EmulatedStack) -> bool:
    """Whether the stack runs the feedback pipeline (its bucket and state machine)."""
    needed = ("FeedbackBucket", "FeedbackStateMachine")
    return all(name in stack.resources and stack.resources[name].physical_id for name in needed)


@dataclass
class FeedbackLedger:
    """The outcome events seen per planned feedback id: detail-type -> distinct event ids."""

    planned: list[PlannedFeedback]
    seen: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    def observe(self, detail_type: str, event_id: str, detail: Mapping[str, Any]) -> None:
        """Record a bus event if it is the outcome of one of this run's feedback files."""
        if detail_type not in OUTCOME_TYPES:
            return
        feedback_id = str(detail.get("feedback_id"))
        if feedback_id not in {p.feedback_id for p in self.planned}:
            return
        self.seen.setdefault(feedback_id, {}).setdefault(OUTCOME_TYPES[detail_type], set()).add(event_id)
        if detail_type == "FeedbackFailed":
            self.reasons[feedback_id] = str(detail.get("reason") or "")

    def ended(self) -> bool:
        """Every planned file has an outcome."""
        return all(p.feedback_id in self.seen for p in self.planned)


def feedback_counts(ledger: FeedbackLedger) -> dict[str, Any]:
    """Submitted, analyzed, failed; plus which were lost (no outcome), doubled, or ended unexpectedly."""
    analyzed = failed = 0
    lost: list[str] = []
    doubled: list[str] = []
    unexpected: list[str] = []
    for item in ledger.planned:
        outcomes = ledger.seen.get(item.feedback_id, {})
        if not outcomes:
            lost.append(item.feedback_id)
            continue
        analyzed += "analyzed" in outcomes
        failed += "failed" in outcomes
        if sum(len(ids) for ids in outcomes.values()) > 1:
            doubled.append(f"{item.feedback_id}: {sorted(outcomes)} x{sum(len(i) for i in outcomes.values())}")
        if set(outcomes) != {item.expected}:
            unexpected.append(f"{item.feedback_id} ({item.kind}): expected {item.expected}, got {sorted(outcomes)}")
    return {
        "submitted": len(ledger.planned),
        "analyzed": analyzed,
        "failed": failed,
        "kinds": [p.kind for p in ledger.planned],
        "lost_items": lost,
        "duplicate_items": doubled,
        "unexpected": unexpected,
    }
