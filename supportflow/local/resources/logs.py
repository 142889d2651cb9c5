"""CloudWatch Logs: log groups with retention."""

from __future__ import annotations

from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates


@creates("AWS::Logs::LogGroup")
def create_log_group(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """CloudWatch Logs group with its retention."""
    name = properties.get("LogGroupName") or deployment.physical_name(logical_id, 512)
    logs = deployment.clients.client("logs")
    logs.create_log_group(logGroupName=name)
    if properties.get("RetentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(properties["RetentionInDays"]))
    arn = f"arn:{deployment.partition}:logs:{deployment.region}:{deployment.account_id}:log-group:{name}:*"
    return Created(ref=name, attributes={"Arn": arn})
