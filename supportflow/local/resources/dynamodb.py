"""DynamoDB: tables with TTL and point-in-time recovery."""

from __future__ import annotations

from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates, tags


@creates("AWS::DynamoDB::Table")
def create_table(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """DynamoDB table, then its TTL and point-in-time recovery settings (moto stores TTL; never expires)."""
    name = properties.get("TableName") or deployment.physical_name(logical_id, 255)
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    for key in (
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "ProvisionedThroughput",
        "SSESpecification",
        "TableClass",
        "DeletionProtectionEnabled",
    ):
        if properties.get(key) is not None:
            kwargs[key] = properties[key]
    stream = properties.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if tags(properties):
        kwargs["Tags"] = tags(properties)
    dynamodb = deployment.clients.dynamodb
    table = dynamodb.create_table(**kwargs)["TableDescription"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl.get("Enabled", True))},
        )
    recovery = properties.get("PointInTimeRecoverySpecification")
    if recovery:
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": bool(recovery.get("PointInTimeRecoveryEnabled"))
            },
        )
    attributes = {"Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return Created(ref=name, attributes=attributes, note="TTL is stored but items never expire" if ttl else "")
