"""The template feeds the notifications worker exactly the events its routing file names."""

from __future__ import annotations

from pathlib import Path

from supportflow.local.template import load_template
from workers.notify.routes import RoutingTable

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_the_rule_routes_exactly_the_routed_detail_types() -> None:
    # Given the template's default routing file, which it names relative to the code root
    path = TEMPLATE.parameters["NotificationRoutesFile"]
    assert not Path(path).is_absolute()
    routed = {event_type.detail_type for event_type in RoutingTable.load(path).detail_types}
    # Then the notification rule names the same detail-types, and never the worker's own NotificationSent
    pattern = TEMPLATE.resources["NotificationEventsRule"]["Properties"]["EventPattern"]
    assert set(pattern["detail-type"]) == routed
    assert "NotificationSent" not in routed


def test_the_function_publishes_only_to_the_three_audience_topics() -> None:
    # Given the function's translated role, Then sns:Publish is granted on the three topics and nothing else
    role = TEMPLATE.resources["NotifyFunctionRole"]["Properties"]
    grants = [
        statement["Resource"]
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "sns:Publish" in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    ]
    assert grants == [[{"Ref": "AgentsTopic"}, {"Ref": "CustomersTopic"}, {"Ref": "OpsTopic"}]]
