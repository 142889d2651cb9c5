"""The run report's feedback and enrichment arithmetic: outcomes counted once, lost and doubled named."""

from __future__ import annotations

import json

from supportflow.local.run.enrichment import enrichment_section
from supportflow.local.run.feedback import FeedbackLedger, feedback_counts, plan_feedback


def _ledger(count: int = 4) -> FeedbackLedger:
    return FeedbackLedger(plan_feedback(count, run_tag="u1"))


def test_the_default_plan_is_text_pdf_or_markdown_transcript_and_one_unreadable() -> None:
    # Given / When four files are planned
    planned = plan_feedback(4, run_tag="u1")
    # Then the kinds cycle as the run promises, only the unreadable one expected to fail
    assert planned[0].kind == "text" and planned[1].kind in {"pdf", "markdown"}
    assert [p.kind for p in planned][2:] == ["transcript", "unreadable"]
    assert [p.expected for p in planned] == ["analyzed", "analyzed", "analyzed", "failed"]
    assert len({p.feedback_id for p in planned}) == 4


def test_each_file_ending_as_expected_counts_once_with_nothing_lost_or_doubled() -> None:
    # Given every file's outcome seen, the failure's event delivered twice (a redelivery, same id)
    ledger = _ledger()
    for index, item in enumerate(ledger.planned):
        kind = "FeedbackFailed" if item.expected == "failed" else "FeedbackAnalyzed"
        ledger.observe(kind, f"e{index}", {"feedback_id": item.feedback_id, "reason": "unsupported file type"})
    ledger.observe("FeedbackFailed", "e3", {"feedback_id": ledger.planned[3].feedback_id})
    # When counted
    counts = feedback_counts(ledger)
    # Then three analysed, one failed, and nothing lost, doubled or unexpected
    assert (counts["submitted"], counts["analyzed"], counts["failed"]) == (4, 3, 1)
    assert counts["lost_items"] == counts["duplicate_items"] == counts["unexpected"] == []
    assert ledger.ended()


def test_a_second_analysis_is_a_duplicate_a_missing_one_lost_and_a_wrong_end_unexpected() -> None:
    # Given the text analysed twice (two event ids), the PDF failed, the transcript never ended
    ledger = _ledger()
    text, pdf, transcript, unreadable = ledger.planned
    ledger.observe("FeedbackAnalyzed", "a1", {"feedback_id": text.feedback_id})
    ledger.observe("FeedbackAnalyzed", "a2", {"feedback_id": text.feedback_id})
    ledger.observe("FeedbackFailed", "f1", {"feedback_id": pdf.feedback_id, "reason": "no text"})
    ledger.observe("FeedbackFailed", "f2", {"feedback_id": unreadable.feedback_id, "reason": "unsupported"})
    # And another run's feedback and an unrelated event on the bus
    ledger.observe("FeedbackAnalyzed", "x", {"feedback_id": "F-other-000"})
    ledger.observe("TicketAccepted", "y", {"feedback_id": transcript.feedback_id})
    # When counted
    counts = feedback_counts(ledger)
    # Then each problem is named once, and the run has not ended
    assert counts["lost_items"] == [transcript.feedback_id]
    assert len(counts["duplicate_items"]) == 1 and text.feedback_id in counts["duplicate_items"][0]
    assert len(counts["unexpected"]) == 1 and pdf.feedback_id in counts["unexpected"][0]
    assert (counts["analyzed"], counts["failed"]) == (1, 2)
    assert not ledger.ended()


def test_the_enrichment_section_reads_mode_tokens_and_cost_from_the_run_output() -> None:
    # Given a finished on-demand run's execution output
    output = {
        "result": {
            "mode": "on_demand",
            "items_selected": 8,
            "items_enriched": 7,
            "items_failed": 1,
            "input_tokens": 1200,
            "output_tokens": 300,
            "cost_usd": 0.00123456789,
        }
    }
    # When summarised
    section = enrichment_section({"status": "SUCCEEDED", "output": json.dumps(output)}, seeded=8)
    # Then it reports items enriched, the mode, tokens in and out together, and the cost
    assert section == {
        "status": "succeeded",
        "seeded": 8,
        "items": 7,
        "selected": 8,
        "failed": 1,
        "mode": "on_demand",
        "tokens": 1500,
        "cost_usd": 0.001235,
        "error": None,
    }


def test_a_failed_enrichment_run_reports_its_error_and_no_items() -> None:
    # Given a run that failed
    described = {"status": "FAILED", "error": "BatchJobFailed", "output": None}
    # When summarised
    section = enrichment_section(described, seeded=8)
    # Then it says so, with nothing enriched
    assert section["status"] == "failed" and section["error"] == "BatchJobFailed"
    assert section["items"] == 0 and section["mode"] is None
