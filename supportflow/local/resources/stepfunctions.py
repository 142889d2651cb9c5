"""Step Functions: state machines from an inline definition."""

from __future__ import annotations

import json
from typing import Any

from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources.registry import Created, Deployment, creates, tags


@creates("AWS::StepFunctions::StateMachine")
def create_state_machine(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """State machine from Definition / DefinitionString with DefinitionSubstitutions applied (moto executes it)."""
    name = properties.get("StateMachineName") or deployment.physical_name(logical_id, 80)
    if "Definition" in properties:
        definition = json.dumps(properties["Definition"])
    elif "DefinitionString" in properties:
        definition = str(properties["DefinitionString"])
    else:
        msg = f"{logical_id}: only inline Definition / DefinitionString are deployed locally"
        raise TemplateError(msg)
    for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    kwargs: dict[str, Any] = {
        "name": name,
        "definition": definition,
        "roleArn": properties["RoleArn"],
        "type": properties.get("StateMachineType", "STANDARD"),
    }
    if properties.get("TracingConfiguration"):
        kwargs["tracingConfiguration"] = {"enabled": bool(properties["TracingConfiguration"].get("Enabled"))}
    if tags(properties):
        kwargs["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags(properties)]
    arn = deployment.clients.stepfunctions.create_state_machine(**kwargs)["stateMachineArn"]
    return Created(ref=arn, attributes={"Arn": arn, "Name": name}, note="executes in moto (JSONPath only)")
