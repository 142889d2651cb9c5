"""EventBridge: buses, archives, rules, and the SQS bridges for targets the emulator cannot deliver to."""

from __future__ import annotations

import json
import logging
from typing import Any

from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources.registry import Bridge, BridgeKind, Created, Deployment, creates, json_text, tags

logger = logging.getLogger("supportflow.local")

# EventBridge target services moto delivers to itself; others need a bridge (or are unsupported).
_NATIVE_TARGET_SERVICES = frozenset({"sqs", "logs", "events"})
_BRIDGED_TARGET_SERVICES: dict[str, BridgeKind] = {"sns": "sns", "states": "states", "lambda": "lambda"}
# Local bridge queues retry quickly; EventBridge itself retries for up to 24 h (185 attempts).
BRIDGE_VISIBILITY_SECONDS = 5
_EVENTBRIDGE_DEFAULT_RETRIES = 185


@creates("AWS::Events::EventBus")
def create_event_bus(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """EventBridge custom bus."""
    name = properties.get("Name") or deployment.physical_name(logical_id, 256)
    kwargs: dict[str, Any] = {"Name": name}
    if properties.get("Description"):
        kwargs["Description"] = properties["Description"]
    if tags(properties):
        kwargs["Tags"] = tags(properties)
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
        kwargs["EventPattern"] = json_text(properties["EventPattern"])
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
        kwargs["EventPattern"] = json_text(properties["EventPattern"])
    if tags(properties):
        kwargs["Tags"] = tags(properties)
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
    kind = _BRIDGED_TARGET_SERVICES.get(service)
    if service in _NATIVE_TARGET_SERVICES or (kind is not None and kind not in deployment.bridge_kinds):
        return target
    if kind is None:
        if not deployment.unknown_targets_fail:
            return target
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
            "reason": f"the emulator cannot deliver EventBridge events to {service} (or to our local code)",
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
