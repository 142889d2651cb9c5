"""SQS: queues and queue policies."""

from __future__ import annotations

import json
from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates, json_text, tags

_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


@creates("AWS::SQS::Queue")
def create_queue(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """SQS queue with its attributes, redrive and redrive-allow policies."""
    fifo = str(properties.get("FifoQueue", "false")).lower() == "true"
    name = properties.get("QueueName") or deployment.physical_name(logical_id, 80, ".fifo" if fifo else "")
    attributes: dict[str, str] = {}
    for key in _QUEUE_ATTRIBUTES:
        if properties.get(key) is not None:
            value = properties[key]
            attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        policy = properties.get(key)
        if policy is not None:
            policy = json.loads(policy) if isinstance(policy, str) else dict(policy)
            if "maxReceiveCount" in policy:
                policy["maxReceiveCount"] = int(policy["maxReceiveCount"])
            attributes[key] = json.dumps(policy)
    sqs = deployment.clients.sqs
    kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if tags(properties):
        kwargs["tags"] = {t["Key"]: t["Value"] for t in tags(properties)}
    url = sqs.create_queue(**kwargs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deployment.queue_urls_by_arn[arn] = url
    return Created(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


@creates("AWS::SQS::QueuePolicy")
def create_queue_policy(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Resource policy on each listed queue."""
    document = json_text(properties["PolicyDocument"])
    for url in properties["Queues"]:
        deployment.clients.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})
    return Created(ref=deployment.physical_name(logical_id, 128), attributes={"Id": logical_id})
