"""S3: buckets with versioning, tags and notifications."""

from __future__ import annotations

from typing import Any

from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources.registry import Created, Deployment, creates, tags


def _notification_filter(configuration: dict[str, Any]) -> dict[str, Any]:
    rules = ((configuration.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    return {"Filter": {"Key": {"FilterRules": rules}}} if rules else {}


@creates("AWS::S3::Bucket")
def create_bucket(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """S3 bucket with versioning and notifications (SQS, SNS, EventBridge; keys arrive URL-encoded)."""
    name = properties.get("BucketName") or deployment.physical_name(logical_id, 63).lower()
    s3 = deployment.clients.s3
    if deployment.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": deployment.region})  # type: ignore[typeddict-item]
    versioning = properties.get("VersioningConfiguration")
    if versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})
    if tags(properties):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags(properties)})  # type: ignore[typeddict-item]
    notifications = properties.get("NotificationConfiguration") or {}
    if notifications.get("LambdaConfigurations"):
        msg = f"{logical_id}: S3 → Lambda notifications cannot run code locally; route through SQS or EventBridge"
        raise TemplateError(msg)
    configuration: dict[str, Any] = {}
    queues = [
        {"QueueArn": c["Queue"], "Events": [c["Event"]], **_notification_filter(c)}
        for c in notifications.get("QueueConfigurations") or []
    ]
    topics = [
        {"TopicArn": c["Topic"], "Events": [c["Event"]], **_notification_filter(c)}
        for c in notifications.get("TopicConfigurations") or []
    ]
    if queues:
        configuration["QueueConfigurations"] = queues
    if topics:
        configuration["TopicConfigurations"] = topics
    if (notifications.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
        configuration["EventBridgeConfiguration"] = {}
    if configuration:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=configuration)  # type: ignore[arg-type]
    endpoint = deployment.clients.endpoint_url
    return Created(
        ref=name,
        attributes={
            "Arn": f"arn:{deployment.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{deployment.region}.amazonaws.com",
            "WebsiteURL": f"{endpoint}/{name}",
        },
        note="notification keys arrive URL-encoded (unquote_plus)" if configuration else "",
    )
