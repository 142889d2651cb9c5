"""What a run's model calls cost, per stage and per ticket, from the usage its events carry.

Each model-calling event says its model, tokens and estimated cost (the Bedrock client prices calls at
the list prices of its model routes), so the report's cost per ticket is measured, not assumed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
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
