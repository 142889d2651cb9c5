"""SNS: topics, topic policies and subscriptions."""

from __future__ import annotations

from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates, json_text, tags

TAP_SUFFIX = "-tap"


def tap_queue_name(topic_name: str) -> str:
    """The local SQS queue subscribed to a topic, so what was published can be read back (SQS names <= 80)."""
    base = topic_name.removesuffix(".fifo")[: 80 - len(TAP_SUFFIX) - 5]
    return base + TAP_SUFFIX + (".fifo" if topic_name.endswith(".fifo") else "")


@creates("AWS::SNS::Topic")
def create_topic(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """SNS topic and its inline subscriptions."""
    fifo = str(properties.get("FifoTopic", "false")).lower() == "true"
    name = properties.get("TopicName") or deployment.physical_name(logical_id, 256, ".fifo" if fifo else "")
    attributes: dict[str, str] = {}
    for key in ("DisplayName", "KmsMasterKeyId", "SignatureVersion", "TracingConfig"):
        if properties.get(key) is not None:
            attributes[key] = str(properties[key])
    if fifo:
        attributes["FifoTopic"] = "true"
    if properties.get("ContentBasedDeduplication") is not None:
        attributes["ContentBasedDeduplication"] = str(properties["ContentBasedDeduplication"]).lower()
    sns = deployment.clients.sns
    kwargs: dict[str, Any] = {"Name": name, "Attributes": attributes}
    if tags(properties):
        kwargs["Tags"] = tags(properties)
    arn = sns.create_topic(**kwargs)["TopicArn"]
    for subscription in properties.get("Subscription") or []:
        sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    _tap(deployment, arn, name, fifo)
    return Created(ref=arn, attributes={"TopicArn": arn, "TopicName": name})


def _tap(deployment: Deployment, topic_arn: str, topic_name: str, fifo: bool) -> None:
    """Locally only: an SQS queue on the topic (the SNS envelope, with message id and attributes)."""
    attributes: dict[Any, str] = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    sqs = deployment.clients.sqs
    url = sqs.create_queue(QueueName=tap_queue_name(topic_name), Attributes=attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deployment.clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)


@creates("AWS::SNS::TopicPolicy")
def create_topic_policy(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Resource policy on each listed topic."""
    document = json_text(properties["PolicyDocument"])
    for arn in properties["Topics"]:
        deployment.clients.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=document)
    return Created(ref=deployment.physical_name(logical_id, 128), attributes={"Id": logical_id})


@creates("AWS::SNS::Subscription")
def create_subscription(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """SNS subscription with its filter policy, raw delivery and redrive attributes."""
    attributes: dict[str, str] = {}
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "ReplayPolicy"):
        if properties.get(key) is not None:
            attributes[key] = json_text(properties[key])
    for key in ("FilterPolicyScope", "SubscriptionRoleArn"):
        if properties.get(key) is not None:
            attributes[key] = str(properties[key])
    if properties.get("RawMessageDelivery") is not None:
        attributes["RawMessageDelivery"] = str(properties["RawMessageDelivery"]).lower()
    arn = deployment.clients.sns.subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return Created(ref=arn, attributes={"Arn": arn})
