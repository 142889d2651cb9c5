"""IAM: roles with managed and inline policies (nothing enforces them locally)."""

from __future__ import annotations

import json
import logging
from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates, json_text, tags

logger = logging.getLogger("supportflow.local")


_AWS_MANAGED_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


@creates("AWS::IAM::Role")
def create_role(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """IAM role with its managed and inline policies (nothing enforces them locally)."""
    name = properties.get("RoleName") or deployment.physical_name(logical_id, 64)
    iam = deployment.clients.iam
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": json_text(properties["AssumeRolePolicyDocument"]),
        "Path": properties.get("Path", "/"),
    }
    for key in ("Description", "PermissionsBoundary"):
        if properties.get(key):
            kwargs[key] = properties[key]
    if properties.get("MaxSessionDuration"):
        kwargs["MaxSessionDuration"] = int(properties["MaxSessionDuration"])
    if tags(properties):
        kwargs["Tags"] = tags(properties)
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


@creates("AWS::IAM::ManagedPolicy")
def create_managed_policy(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """Customer managed policy (Ref is its ARN), attached to the roles it names; nothing enforces it locally."""
    name = properties.get("ManagedPolicyName") or deployment.physical_name(logical_id, 128)
    iam = deployment.clients.iam
    document = dict(properties["PolicyDocument"])
    document.setdefault("Version", "2012-10-17")
    kwargs: dict[str, Any] = {"PolicyName": name, "PolicyDocument": json.dumps(document)}
    for key in ("Description", "Path"):
        if properties.get(key):
            kwargs[key] = properties[key]
    arn = iam.create_policy(**kwargs)["Policy"]["Arn"]
    for role in properties.get("Roles") or []:
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    return Created(ref=arn, attributes={"PolicyArn": arn})
