"""The template's knowledge parameters and the read policy the drafting functions attach, resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supportflow.local.intrinsics import Resolver, Scope, evaluate_conditions
from supportflow.local.template import load_template

ROOT = Path(__file__).resolve().parents[3]
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
APP = "a1b2c3d4-0000-4000-8000-00000000app1"


def read_policy(overrides: dict[str, str]) -> list[dict[str, Any]]:
    """KnowledgeReadPolicy's statements as CloudFormation would deploy them with these parameters."""
    template = load_template(ROOT / "template.yaml", parameter_overrides=overrides)
    scope = Scope(parameters=dict(template.parameters), pseudo=PSEUDO)
    evaluate_conditions({"Conditions": template.conditions}, scope)
    document = template.resources["KnowledgeReadPolicy"]["Properties"]["PolicyDocument"]
    statements: list[dict[str, Any]] = Resolver(scope).resolve(document)["Statement"]
    return statements


@pytest.mark.parametrize(
    ("overrides", "action", "resource"),
    [
        ({}, "bedrock:Retrieve", "arn:aws:bedrock:eu-west-1:123456789012:knowledge-base/SUPPORTKB1"),
        (
            {"KnowledgeSource": "q-business", "QBusinessApplicationId": APP, "QBusinessRetrieverId": APP},
            "qbusiness:SearchRelevantContent",
            f"arn:aws:qbusiness:eu-west-1:123456789012:application/{APP}",
        ),
    ],
)
def test_the_read_policy_allows_one_action_on_the_one_configured_resource(
    overrides: dict[str, str], action: str, resource: str
) -> None:
    # Given the template deployed with a knowledge source, When its read policy is resolved
    statements = read_policy(overrides)
    # Then it allows exactly the read action on exactly that knowledge base or application
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in statements] == [("Allow", action, resource)]
