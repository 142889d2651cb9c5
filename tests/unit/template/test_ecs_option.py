"""The opt-in ECS Fargate deployment of a worker: off by default, and when on, the same code with the same rights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supportflow.local.intrinsics import Scope, evaluate_conditions
from supportflow.local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[3]
ECS_TYPES = {
    "AWS::ECS::Cluster",
    "AWS::ECS::TaskDefinition",
    "AWS::ECS::Service",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
}


def _conditions(overrides: dict[str, str]) -> tuple[Template, dict[str, bool]]:
    template = load_template(ROOT / "template.yaml", {"WorkerImageUri": "registry/supportflow:1", **overrides})
    scope = Scope(parameters=dict(template.parameters), pseudo={"AWS::Region": "us-east-1"})
    return template, evaluate_conditions(template.cloudformation, scope)


def _ecs_resources(template: Template) -> dict[str, dict[str, Any]]:
    return {
        logical_id: body
        for logical_id, body in template.resources.items()
        if body["Type"] in ECS_TYPES or logical_id.startswith(("Ecs", "IntakeEcs", "IntakeQueueBacklog"))
    }


def test_by_default_nothing_of_ecs_is_created_and_lambda_consumes() -> None:
    # Given the template with its default parameters
    template, conditions = _conditions({})
    ecs = _ecs_resources(template)
    # Then every ECS resource exists only under a condition that is false
    assert {"EcsCluster", "IntakeEcsService", "IntakeEcsTaskDefinition", "IntakeEcsScalableTarget"} <= set(ecs)
    assert all(body.get("Condition") and not conditions[body["Condition"]] for body in ecs.values())
    # And intake's event source mapping keeps its default (enabled): the If picks AWS::NoValue
    enabled = template.resources["IntakeFunctionIntakeQueueEvent"]["Properties"]["Enabled"]
    assert enabled == {"Fn::If": ["IntakeOnEcs", False, {"Ref": "AWS::NoValue"}]}
    assert conditions["IntakeOnEcs"] is False


@pytest.mark.parametrize(
    ("ecs_workers", "intake_on_ecs"),
    [("intake", True), ("ticket_record,intake", True), ("intake,ticket_record", True), ("intakes", False)],
)
def test_ecs_workers_names_exactly_the_workers_moved_to_ecs(ecs_workers: str, intake_on_ecs: bool) -> None:
    # Given EcsWorkers naming some workers
    _, conditions = _conditions({"EcsWorkers": ecs_workers})
    # Then intake moves to ECS only when it is named as a whole word, and the shared resources exist
    assert conditions["IntakeOnEcs"] is intake_on_ecs
    assert conditions["EcsEnabled"] is True


def test_the_task_runs_the_lambda_handler_through_the_consumer_with_the_functions_rights() -> None:
    # Given the template with intake on ECS
    template, _ = _conditions({"EcsWorkers": "intake"})
    function = template.resources["IntakeFunction"]["Properties"]
    (container,) = template.resources["IntakeEcsTaskDefinition"]["Properties"]["ContainerDefinitions"]
    command = container["Command"]
    # Then the container's command names the function's own handler and the queue its event source polls
    assert command[command.index("--handler") + 1] == function["Handler"]
    assert command[command.index("--queue-url") + 1] == {"Ref": "IntakeQueue"}
    # And the task role grants the function's DynamoDB and EventBridge actions on the same resources
    role = template.resources["IntakeEcsTaskRole"]["Properties"]
    granted = {
        (action, str(statement["Resource"]))
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert (action, str({"Fn::GetAtt": ["IdempotencyTable", "Arn"]})) in granted
    assert ("events:PutEvents", str({"Fn::GetAtt": ["EventBus", "Arn"]})) in granted
    assert all(action.split(":")[0] in {"sqs", "dynamodb", "events"} for action, _ in granted)
    # And the worker sees the function's environment (settings validate the same way)
    environment = {item["Name"] for item in container["Environment"]}
    assert set(function["Environment"]["Variables"]) <= environment
