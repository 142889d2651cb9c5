"""Create each CloudFormation resource type with boto3, one creator per type (a registry).

moto's own CloudFormation reports success while skipping subscriptions, queue policies, TTL and
more, so every resource is created here through the service's own API. A type without a creator
must be listed in :data:`NOT_EMULATED` with the reason; anything else stops the boot.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from supportflow.local.clients import Clients
from supportflow.local.intrinsics import TemplateError

logger = logging.getLogger("supportflow.local")

Status = Literal["created", "bridged", "not-emulated", "condition-false"]
BridgeKind = Literal["sns", "states", "lambda"]

# Types deliberately not created, and why. The coverage test accepts exactly these.
NOT_EMULATED: dict[str, str] = {
    "AWS::Lambda::Permission": (
        "resource-based invoke permissions: locally no service invokes a function through Lambda; "
        "consumers and bridges call the handler directly"
    ),
    "AWS::XRay::Group": "tracing is off locally (POWERTOOLS_TRACE_DISABLED=true)",
    "AWS::XRay::SamplingRule": "tracing is off locally (POWERTOOLS_TRACE_DISABLED=true)",
}
# EventBridge target services moto delivers to itself; others need a bridge (or are unsupported).
_NATIVE_TARGET_SERVICES = frozenset({"sqs", "logs", "events"})
_BRIDGED_TARGET_SERVICES: dict[str, BridgeKind] = {"sns": "sns", "states": "states", "lambda": "lambda"}
# Local bridge queues retry quickly; EventBridge itself retries for up to 24 h (185 attempts).
BRIDGE_VISIBILITY_SECONDS = 5
_EVENTBRIDGE_DEFAULT_RETRIES = 185


@dataclass
class ResourceInfo:
    """What the local stack did with one logical resource."""

    logical_id: str
    type: str
    status: Status
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Bridge:
    """An EventBridge target moto cannot deliver to, replaced by an SQS queue plus a forwarder."""

    rule_logical_id: str
    target_id: str
    target_arn: str
    kind: BridgeKind
    queue_url: str
    queue_arn: str
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function as the local consumers run it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_seconds: int
    environment: dict[str, str]


@dataclass(frozen=True)
class EventSourceSpec:
    """An SQS event source mapping, polled locally by a consumer process."""

    logical_id: str
    function_logical_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    enabled: bool


@dataclass
class Created:
    """What a creator returns: the Ref value, the GetAtt attributes, and a note for the operator."""

    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    status: Status = "created"


@dataclass
class Deployment:
    """Everything creators share: clients, naming, and what has been created so far."""

    clients: Clients
    stack_name: str
    region: str
    account_id: str
    partition: str = "aws"
    bridge_unsupported_targets: bool = True
    bridges: list[Bridge] = field(default_factory=list)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    event_sources: list[EventSourceSpec] = field(default_factory=list)
    queue_urls_by_arn: dict[str, str] = field(default_factory=dict)

    def physical_name(self, logical_id: str, max_length: int = 64, suffix: str = "") -> str:
        """A CloudFormation-like generated name, ``<stack>-<LogicalId>``, within the service's limit."""
        base = re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.stack_name}-{logical_id}")
        return base[: max_length - len(suffix)] + suffix


Creator = Callable[[Deployment, str, dict[str, Any]], Created]
CREATORS: dict[str, Creator] = {}


def creates(resource_type: str) -> Callable[[Creator], Creator]:
    """Register a creator for ``resource_type``."""

    def register(creator: Creator) -> Creator:
        CREATORS[resource_type] = creator
        return creator

    return register


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    tags = properties.get("Tags") or []
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in tags]


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------- EventBridge


@creates("AWS::Events::EventBus")
def create_event_bus(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """EventBridge custom bus."""
    name = properties.get("Name") or deployment.physical_name(logical_id, 256)
    kwargs: dict[str, Any] = {"Name": name}
    if properties.get("Description"):
        kwargs["Description"] = properties["Description"]
    if _tags(properties):
        kwargs["Tags"] = _tags(properties)
    arn = deployment.clients.events.create_event_bus(**kwargs)["EventBusArn"]
    return Created(ref=name, attributes={"Arn": arn, "Name": name})


@creates("AWS::Events::Archive")
def create_archive(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """EventBridge archive of a bus (moto records events into it)."""
    name = properties.get("ArchiveName") or deployment.physical_name(logical_id, 48)
    kwargs: dict[str, Any] = {"ArchiveName": name, "EventSourceArn": properties["SourceArn"]}
    if properties.get("Description"):
        kwargs["Description"] = properties["Description"]
    if properties.get("EventPattern") is not None:
        kwargs["EventPattern"] = _json(properties["EventPattern"])
    if properties.get("RetentionDays") is not None:
        kwargs["RetentionDays"] = int(properties["RetentionDays"])
    arn = deployment.clients.events.create_archive(**kwargs)["ArchiveArn"]
    return Created(ref=name, attributes={"Arn": arn, "ArchiveName": name})


@creates("AWS::Events::Rule")
def create_rule(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """EventBridge rule and its targets; targets moto cannot deliver to are bridged through SQS."""
    name = properties.get("Name") or deployment.physical_name(logical_id, 64)
    bus = str(properties.get("EventBusName") or "default").rsplit("event-bus/", 1)[-1]
    kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": properties.get("State", "ENABLED")}
    for key in ("Description", "ScheduleExpression", "RoleArn"):
        if properties.get(key):
            kwargs[key] = properties[key]
    if properties.get("EventPattern") is not None:
        kwargs["EventPattern"] = _json(properties["EventPattern"])
    if _tags(properties):
        kwargs["Tags"] = _tags(properties)
    events = deployment.clients.events
    arn = events.put_rule(**kwargs)["RuleArn"]
    targets: list[Any] = []
    notes: list[str] = []
    for target in properties.get("Targets") or []:
        targets.append(_rule_target(deployment, logical_id, target, notes))
    if targets:
        result = events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        if result.get("FailedEntryCount"):
            msg = f"{logical_id}: put_targets failed: {result.get('FailedEntries')}"
            raise TemplateError(msg)
    if properties.get("ScheduleExpression"):
        notes.append("schedule expressions never fire in the emulator")
    # CloudFormation's Ref of a rule on a custom bus is "<bus>|<rule>".
    ref = name if bus == "default" else f"{bus}|{name}"
    return Created(ref=ref, attributes={"Arn": arn}, note="; ".join(notes), status="bridged" if notes else "created")


def _rule_target(
    deployment: Deployment, rule_logical_id: str, target: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    service = str(target["Arn"]).split(":")[2]
    if service in _NATIVE_TARGET_SERVICES or not deployment.bridge_unsupported_targets:
        return target
    kind = _BRIDGED_TARGET_SERVICES.get(service)
    if kind is None:
        msg = f"{rule_logical_id}: EventBridge target service {service!r} is neither delivered nor bridged"
        raise TemplateError(msg)
    bridge = _create_bridge(deployment, rule_logical_id, target, kind)
    notes.append(f"target {target['Id']} ({kind}) bridged via SQS queue {bridge.queue_url}")
    logger.warning(
        "eventbridge target bridged",
        extra={
            "rule": rule_logical_id,
            "target": target["Arn"],
            "bridge_queue": bridge.queue_url,
            "reason": f"moto cannot deliver EventBridge events to {service}",
        },
    )
    bridged: dict[str, Any] = {"Id": target["Id"], "Arn": bridge.queue_arn}
    return bridged


def _create_bridge(deployment: Deployment, rule_logical_id: str, target: dict[str, Any], kind: BridgeKind) -> Bridge:
    sqs = deployment.clients.sqs
    name = deployment.physical_name(f"bridge-{rule_logical_id}-{target['Id']}", 80)
    attributes = {"VisibilityTimeout": str(BRIDGE_VISIBILITY_SECONDS)}
    dead_letter_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter_arn:
        # What EventBridge does after its retries: the event goes to the target's DLQ.
        retries = int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", _EVENTBRIDGE_DEFAULT_RETRIES))
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": retries + 1}
        )
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bridge = Bridge(
        rule_logical_id=rule_logical_id,
        target_id=str(target["Id"]),
        target_arn=str(target["Arn"]),
        kind=kind,
        queue_url=url,
        queue_arn=arn,
        input=target.get("Input"),
        input_path=target.get("InputPath"),
        input_transformer=target.get("InputTransformer"),
    )
    deployment.bridges.append(bridge)
    return bridge


# ---------------------------------------------------------------- SQS

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
    if _tags(properties):
        kwargs["tags"] = {t["Key"]: t["Value"] for t in _tags(properties)}
    url = sqs.create_queue(**kwargs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deployment.queue_urls_by_arn[arn] = url
    return Created(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


@creates("AWS::SQS::QueuePolicy")
def create_queue_policy(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Resource policy on each listed queue."""
    document = _json(properties["PolicyDocument"])
    for url in properties["Queues"]:
        deployment.clients.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})
    return Created(ref=deployment.physical_name(logical_id, 128), attributes={"Id": logical_id})


# ---------------------------------------------------------------- DynamoDB


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
    if _tags(properties):
        kwargs["Tags"] = _tags(properties)
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


# ---------------------------------------------------------------- SNS


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
    if _tags(properties):
        kwargs["Tags"] = _tags(properties)
    arn = sns.create_topic(**kwargs)["TopicArn"]
    for subscription in properties.get("Subscription") or []:
        sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    return Created(ref=arn, attributes={"TopicArn": arn, "TopicName": name})


@creates("AWS::SNS::TopicPolicy")
def create_topic_policy(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Resource policy on each listed topic."""
    document = _json(properties["PolicyDocument"])
    for arn in properties["Topics"]:
        deployment.clients.sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=document)
    return Created(ref=deployment.physical_name(logical_id, 128), attributes={"Id": logical_id})


@creates("AWS::SNS::Subscription")
def create_subscription(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """SNS subscription with its filter policy, raw delivery and redrive attributes."""
    attributes: dict[str, str] = {}
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "ReplayPolicy"):
        if properties.get(key) is not None:
            attributes[key] = _json(properties[key])
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


# ---------------------------------------------------------------- IAM


_AWS_MANAGED_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


@creates("AWS::IAM::Role")
def create_role(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """IAM role with its managed and inline policies (nothing enforces them locally)."""
    name = properties.get("RoleName") or deployment.physical_name(logical_id, 64)
    iam = deployment.clients.iam
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": _json(properties["AssumeRolePolicyDocument"]),
        "Path": properties.get("Path", "/"),
    }
    for key in ("Description", "PermissionsBoundary"):
        if properties.get(key):
            kwargs[key] = properties[key]
    if properties.get("MaxSessionDuration"):
        kwargs["MaxSessionDuration"] = int(properties["MaxSessionDuration"])
    if _tags(properties):
        kwargs["Tags"] = _tags(properties)
    role = iam.create_role(**kwargs)["Role"]
    for policy_arn in properties.get("ManagedPolicyArns") or []:
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        except iam.exceptions.NoSuchEntityException:
            # An external emulator may not ship AWS's managed policies (a plain moto server does not
            # load them). Nothing enforces IAM locally, so the role is usable without the attachment.
            if not policy_arn.startswith(_AWS_MANAGED_POLICY_PREFIX):
                raise
            logger.warning(
                "AWS managed policy not known to the emulator; role created without it",
                extra={"role": name, "policy_arn": policy_arn},
            )
    for policy in properties.get("Policies") or []:
        document = dict(policy["PolicyDocument"])
        # SAM policy templates omit Version; IAM defaults it, moto rejects the document without it.
        document.setdefault("Version", "2012-10-17")
        iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document))
    return Created(ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})


# ---------------------------------------------------------------- Lambda

_PLACEHOLDER_CODE = "def handler(event, context):\n    raise RuntimeError('runs in the local consumer')\n"


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", _PLACEHOLDER_CODE)
    return buffer.getvalue()


@creates("AWS::Lambda::Function")
def create_function(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Lambda function with a placeholder zip (so ARNs resolve); its handler runs in a local consumer."""
    name = properties.get("FunctionName") or deployment.physical_name(logical_id, 64)
    environment = {str(k): str(v) for k, v in ((properties.get("Environment") or {}).get("Variables") or {}).items()}
    memory = int(properties.get("MemorySize", 128))
    timeout = int(properties.get("Timeout", 3))
    kwargs: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": properties.get("Runtime", "python3.12"),
        "Role": properties["Role"],
        "Handler": properties["Handler"],
        "Code": {"ZipFile": _placeholder_zip()},
        "MemorySize": memory,
        "Timeout": timeout,
        "Environment": {"Variables": environment},
    }
    for key in ("Description", "TracingConfig", "Architectures", "EphemeralStorage", "Layers"):
        if properties.get(key):
            kwargs[key] = properties[key]
    if _tags(properties):
        kwargs["Tags"] = {t["Key"]: t["Value"] for t in _tags(properties)}
    arn = deployment.clients.lambda_.create_function(**kwargs)["FunctionArn"]
    deployment.functions[logical_id] = FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=arn,
        handler=str(properties["Handler"]),
        runtime=str(kwargs["Runtime"]),
        memory_mb=memory,
        timeout_seconds=timeout,
        environment=environment,
    )
    return Created(ref=name, attributes={"Arn": arn}, note="code runs in a local consumer process")


@creates("AWS::Lambda::EventSourceMapping")
def create_event_source_mapping(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Event source mapping, recorded disabled in the emulator: a local consumer process is the poller."""
    function_ref = str(properties["FunctionName"])
    function = next((f for f in deployment.functions.values() if function_ref in (f.name, f.arn, f.logical_id)), None)
    source_arn = str(properties["EventSourceArn"])
    if function is None or source_arn not in deployment.queue_urls_by_arn:
        msg = f"{logical_id}: only SQS event sources of functions in this template run locally ({source_arn})"
        raise TemplateError(msg)
    kwargs: dict[str, Any] = {
        "EventSourceArn": source_arn,
        "FunctionName": function.name,
        # Enabled in moto, its own poller would "invoke" (echo) and delete every message.
        "Enabled": False,
    }
    for key in ("BatchSize", "MaximumBatchingWindowInSeconds"):
        if properties.get(key) is not None:
            kwargs[key] = int(properties[key])
    if properties.get("FunctionResponseTypes"):
        kwargs["FunctionResponseTypes"] = list(properties["FunctionResponseTypes"])
    uuid = deployment.clients.lambda_.create_event_source_mapping(**kwargs)["UUID"]
    enabled = str(properties.get("Enabled", "true")).lower() != "false"
    deployment.event_sources.append(
        EventSourceSpec(
            logical_id=logical_id,
            function_logical_id=function.logical_id,
            queue_url=deployment.queue_urls_by_arn[source_arn],
            queue_arn=source_arn,
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
            enabled=enabled,
        )
    )
    return Created(ref=uuid, attributes={"Id": uuid}, note="polled by a local consumer process")


# ---------------------------------------------------------------- Step Functions


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
    if _tags(properties):
        kwargs["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in _tags(properties)]
    arn = deployment.clients.stepfunctions.create_state_machine(**kwargs)["stateMachineArn"]
    return Created(ref=arn, attributes={"Arn": arn, "Name": name}, note="executes in moto (JSONPath only)")


# ---------------------------------------------------------------- S3


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
    if _tags(properties):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags(properties)})  # type: ignore[typeddict-item]
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


# ---------------------------------------------------------------- Scheduler, CloudWatch, Logs


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


_ALARM_KEYS = (
    "ActionsEnabled",
    "AlarmActions",
    "AlarmDescription",
    "ComparisonOperator",
    "DatapointsToAlarm",
    "Dimensions",
    "EvaluateLowSampleCountPercentile",
    "EvaluationPeriods",
    "ExtendedStatistic",
    "InsufficientDataActions",
    "MetricName",
    "Metrics",
    "Namespace",
    "OKActions",
    "Period",
    "Statistic",
    "Threshold",
    "ThresholdMetricId",
    "TreatMissingData",
    "Unit",
)


@creates("AWS::CloudWatch::Alarm")
def create_alarm(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """CloudWatch metric alarm (stored; its actions never run locally)."""
    name = properties.get("AlarmName") or deployment.physical_name(logical_id, 255)
    kwargs: dict[str, Any] = {key: properties[key] for key in _ALARM_KEYS if properties.get(key) is not None}
    for key in ("EvaluationPeriods", "Period", "DatapointsToAlarm"):
        if key in kwargs:
            kwargs[key] = int(kwargs[key])
    if "Threshold" in kwargs:
        kwargs["Threshold"] = float(kwargs["Threshold"])
    deployment.clients.client("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
    arn = f"arn:{deployment.partition}:cloudwatch:{deployment.region}:{deployment.account_id}:alarm:{name}"
    return Created(ref=name, attributes={"Arn": arn}, note="alarm actions never run locally")


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
