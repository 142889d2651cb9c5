"""The deployer: a translated template's resources created, in dependency order, in an emulator."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from supportflow.local.clients import Clients
from supportflow.local.intrinsics import Resolver, Scope, TemplateError, creation_order, evaluate_conditions
from supportflow.local.resources import (
    CREATORS,
    NOT_EMULATED,
    Bridge,
    BridgeKind,
    Deployment,
    EventSourceSpec,
    FunctionSpec,
    ResourceInfo,
)
from supportflow.local.template import Template

logger = logging.getLogger("supportflow.local")


@dataclass
class Deployed:
    """What a deployment left in the emulator: resources, outputs, bridges, functions and their queues."""

    account_id: str
    resources: dict[str, ResourceInfo] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    bridges: list[Bridge] = field(default_factory=list)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    event_sources: list[EventSourceSpec] = field(default_factory=list)


def deploy(
    template: Template,
    clients: Clients,
    stack_name: str,
    *,
    bridge_kinds: frozenset[BridgeKind],
    unknown_targets_fail: bool,
) -> Deployed:
    """Create every resource of ``template`` through the services' own APIs; raise on any gap."""
    account_id = str(clients.client("sts").get_caller_identity()["Account"])
    region = clients.region
    scope = Scope(
        parameters=dict(template.parameters),
        pseudo={
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": "",
        },
        mappings=template.mappings,
    )
    evaluate_conditions(template.cloudformation, scope)
    resolver = Resolver(scope)
    deployment = Deployment(
        clients=clients,
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        bridge_kinds=bridge_kinds,
        unknown_targets_fail=unknown_targets_fail,
    )
    deployed = Deployed(account_id=account_id)
    for logical_id in creation_order(template.resources):
        deployed.resources[logical_id] = _create(template, logical_id, resolver, deployment)
    deployed.bridges = deployment.bridges
    deployed.functions = deployment.functions
    deployed.event_sources = deployment.event_sources
    for name, output in template.outputs.items():
        condition = output.get("Condition")
        if condition is None or scope.conditions.get(condition):
            deployed.outputs[name] = resolver.resolve(output["Value"])
    return deployed


def _create(template: Template, logical_id: str, resolver: Resolver, deployment: Deployment) -> ResourceInfo:
    body = template.resources[logical_id]
    resource_type = str(body["Type"])
    scope = resolver.scope
    condition = body.get("Condition")
    if condition is not None and not scope.conditions.get(condition, False):
        return ResourceInfo(logical_id, resource_type, "condition-false", note=f"condition {condition} is false")
    if resource_type in NOT_EMULATED:
        placeholder = deployment.physical_name(logical_id)
        scope.refs[logical_id] = placeholder
        scope.attrs[logical_id] = {}
        logger.info(
            "resource not emulated",
            extra={"logical_id": logical_id, "type": resource_type, "reason": NOT_EMULATED[resource_type]},
        )
        return ResourceInfo(logical_id, resource_type, "not-emulated", placeholder, note=NOT_EMULATED[resource_type])
    creator = CREATORS.get(resource_type)
    if creator is None:
        msg = (
            f"{logical_id}: no local creator for {resource_type}; add one to its service's module in"
            " supportflow/local/resources/ or list the type in NOT_EMULATED with the reason"
        )
        raise TemplateError(msg)
    properties = resolver.resolve(body.get("Properties") or {})
    try:
        created = creator(deployment, logical_id, properties)
    except (ClientError, BotoCoreError) as error:
        msg = f"creating {logical_id} ({resource_type}) failed: {error}"
        raise TemplateError(msg) from error
    scope.refs[logical_id] = created.ref
    scope.attrs[logical_id] = created.attributes
    return ResourceInfo(logical_id, resource_type, created.status, created.ref, created.attributes, created.note)
