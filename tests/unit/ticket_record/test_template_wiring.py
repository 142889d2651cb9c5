"""The template feeds the ticket record exactly the events it folds, and its rules file loads."""

from __future__ import annotations

from pathlib import Path

from supportflow.local.template import load_template
from workers.ticket_record.logic import FOLDED_EVENTS
from workers.ticket_record.rules import EscalationRules

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_the_rule_routes_every_folded_event_and_nothing_else() -> None:
    # Given the translated template, Then the ticket events rule names exactly the folded detail-types
    pattern = TEMPLATE.resources["TicketEventsRule"]["Properties"]["EventPattern"]
    assert sorted(pattern["detail-type"]) == sorted(FOLDED_EVENTS)
    # And not TicketAnalyzed, which the record itself emits
    assert "TicketAnalyzed" not in pattern["detail-type"]


def test_the_default_rules_file_is_the_one_the_function_loads() -> None:
    # Given the template's default escalation rules parameter
    path = TEMPLATE.parameters["EscalationRulesFile"]
    # Then it names a file that loads as rules, relative to the code root as in the Lambda bundle
    assert not Path(path).is_absolute()
    assert EscalationRules.load(path).rules


def test_the_function_may_only_read_and_conditionally_put_its_table() -> None:
    # Given the function's translated role, Then its only grant on the tickets table is GetItem and PutItem
    role = TEMPLATE.resources["TicketRecordFunctionRole"]["Properties"]
    statements = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Resource") == {"Fn::GetAtt": ["TicketsTable", "Arn"]}
    ]
    assert [sorted(statement["Action"]) for statement in statements] == [["dynamodb:GetItem", "dynamodb:PutItem"]]
