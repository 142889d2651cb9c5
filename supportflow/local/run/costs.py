"""What a run's model calls cost, per stage and per ticket, from the usage its events carry.

Each model-calling event says its model, tokens and estimated cost (the Bedrock client prices calls at
the list prices of its model routes), so the report's cost per ticket is measured, not assumed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportflow.local.run.ledger import Ledger

# The event that carries each stage's usage; drafts for an escalation's approval are their own stage.
USAGE_STAGES = {"TicketClassified": "classify", "SentimentAnalyzed": "sentiment", "ResponseDrafted": "draft"}
PER_THOUSAND = 1000


@dataclass
class StageUsage:
    """Tokens and cost of one stage over a run, and which models served it."""

    events: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    models: Counter[str] = field(default_factory=Counter)

    def add(self, detail: dict[str, Any]) -> None:
        """Count one event's usage."""
        spent = detail.get("usage") or {}
        self.events += 1
        self.input_tokens += int(spent.get("input_tokens", 0))
        self.output_tokens += int(spent.get("output_tokens", 0))
        self.cost_usd += float(spent.get("estimated_cost_usd", 0.0))
        if detail.get("model_id"):
            self.models[str(detail["model_id"])] += 1


def stage_of(detail_type: str, detail: dict[str, Any]) -> str | None:
    """The cost stage an event's usage belongs to (None if it carries none)."""
    stage = USAGE_STAGES.get(detail_type)
    if stage == "draft" and detail.get("for_escalation"):
        return "escalation_draft"
    return stage


def usage_by_stage(ledger: Ledger) -> dict[str, StageUsage]:
    """Per stage, the usage summed over the run's events (each event id once)."""
    stages: dict[str, StageUsage] = {}
    for events in ledger.by_ticket.values():
        for detail_type in USAGE_STAGES:
            for event in events.get(detail_type, []):
                detail = dict(event.detail)
                stage = stage_of(detail_type, detail)
                if stage is not None:
                    stages.setdefault(stage, StageUsage()).add(detail)
    return stages


def cost_report(ledger: Ledger, tickets: int) -> dict[str, Any]:
    """The report's cost entries: per ticket, per 1,000 tickets, and each stage's share with its tokens."""
    stages = usage_by_stage(ledger)
    total = sum(stage.cost_usd for stage in stages.values())
    per_ticket = total / tickets if tickets else 0.0
    return {
        "cost_per_ticket_usd": round(per_ticket, 6),
        "cost_per_1000_tickets_usd": round(per_ticket * PER_THOUSAND, 2),
        "cost_by_stage": {
            name: {
                "events": stage.events,
                "input_tokens": stage.input_tokens,
                "output_tokens": stage.output_tokens,
                "cost_usd": round(stage.cost_usd, 6),
                "per_1000_tickets_usd": round(stage.cost_usd / tickets * PER_THOUSAND, 2) if tickets else 0.0,
                "models": dict(stage.models.most_common()),
            }
            for name, stage in sorted(stages.items())
        },
    }


# --- what moves the cost: the measured tokens repriced ------------------------------------------------

CATALOG = Path(__file__).resolve().parents[3] / "workers" / "shared" / "bedrock" / "catalog.json"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA_LITE = "us.amazon.nova-lite-v1:0"
DRAFT_STAGES = ("draft", "escalation_draft")
TRIAGE_STAGES = ("classify", "sentiment")


def list_prices(catalog: Path = CATALOG) -> dict[str, tuple[float, float]]:
    """Model id -> (USD per million input tokens, per million output tokens) from the client's catalog."""
    models = json.loads(catalog.read_text(encoding="utf-8"))["models"]
    return {
        model: (float(entry["pricing"]["input_per_mtok"]), float(entry["pricing"]["output_per_mtok"]))
        for model, entry in models.items()
    }


def _priced(stage: Mapping[str, Any], model: str, prices: Mapping[str, tuple[float, float]], scale: float) -> float:
    per_input, per_output = prices[model]
    return float(stage["input_tokens"] * scale * per_input + stage["output_tokens"] * per_output) / 1_000_000


def what_if(report: Mapping[str, Any], prices: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """Cost per 1,000 tickets of the run's measured tokens under other routes, a cache, shorter prompts.

    A stage that a scenario changes is repriced from its tokens at the new model's list prices; the
    others keep their measured cost. Shorter prompts scale each stage's measured cost by the share its
    input tokens hold at its route's prices (Haiku and Sonnet price output at 5x input alike).
    """
    stages: Mapping[str, Mapping[str, Any]] = report["cost_by_stage"]
    per_ticket = float(report["cost_per_ticket_usd"])
    if not per_ticket:
        return {}
    tickets = float(report["cost_usd"]) / per_ticket
    measured = {name: float(stage["cost_usd"]) for name, stage in stages.items()}

    def per_thousand(costs: Mapping[str, float]) -> float:
        return round(sum(costs.values()) / tickets * PER_THOUSAND, 2)

    def moved(names: tuple[str, ...], model: str) -> dict[str, float]:
        return {n: _priced(stages[n], model, prices, 1.0) if n in names else c for n, c in measured.items()}

    def shorter(name: str, cost: float) -> float:
        model = SONNET if name in DRAFT_STAGES else HAIKU
        full = _priced(stages[name], model, prices, 1.0)
        return cost * _priced(stages[name], model, prices, 0.75) / full if full else cost

    return {
        "as run (measured)": per_thousand(measured),
        "triage on Sonnet 4.5 too (no routing)": per_thousand(moved(TRIAGE_STAGES, SONNET)),
        "triage on Nova Lite": per_thousand(moved(TRIAGE_STAGES, NOVA_LITE)),
        "drafting chain all on Haiku 4.5": per_thousand(moved(DRAFT_STAGES, HAIKU)),
        "prompts 25 % shorter (input tokens)": per_thousand({n: shorter(n, c) for n, c in measured.items()}),
        "response cache, 10 % hits": round(per_thousand(measured) * 0.9, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m supportflow.local.run.costs REPORT.json``: the run's cost per 1,000 tickets, and what moves it."""
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        sys.stderr.write("usage: python -m supportflow.local.run.costs REPORT.json\n")
        return 2
    report = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    lines = [f"{'stage':<18} {'tokens in':>10} {'tokens out':>10} {'USD per 1,000 tickets':>22}"]
    for name, stage in report["cost_by_stage"].items():
        tokens = f"{stage['input_tokens']:>10} {stage['output_tokens']:>10}"
        lines.append(f"{name:<18} {tokens} {stage['per_1000_tickets_usd']:>22.2f}")
    lines.append("")
    lines.extend(f"{label:<40} ${value:>7.2f}" for label, value in what_if(report, list_prices()).items())
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
