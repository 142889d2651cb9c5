"""EventBridge Scheduler: schedules (stored; never fire in the emulator)."""

from __future__ import annotations

from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates


@creates("AWS::Scheduler::Schedule")
def create_schedule(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """EventBridge Scheduler schedule (stored; never fires in the emulator)."""
    name = properties.get("Name") or deployment.physical_name(logical_id, 64)
    group = properties.get("GroupName", "default")
    kwargs: dict[str, Any] = {
        "Name": name,
        "GroupName": group,
        "ScheduleExpression": properties["ScheduleExpression"],
        "FlexibleTimeWindow": properties.get("FlexibleTimeWindow") or {"Mode": "OFF"},
        "Target": properties["Target"],
        "State": properties.get("State", "ENABLED"),
    }
    for key in ("Description", "ScheduleExpressionTimezone", "KmsKeyArn"):
        if properties.get(key):
            kwargs[key] = properties[key]
    arn = deployment.clients.scheduler.create_schedule(**kwargs)["ScheduleArn"]
    return Created(ref=name, attributes={"Arn": arn}, note="never fires in the emulator: trigger its target yourself")
