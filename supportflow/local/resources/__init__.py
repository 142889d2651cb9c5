"""Create each CloudFormation resource type with boto3, one creator per type (a registry), one module per service.

moto's own CloudFormation reports success while skipping subscriptions, queue policies, TTL and
more, so every resource is created here through the service's own API. A type without a creator
must be listed in :data:`NOT_EMULATED` with the reason; anything else stops the boot. A new service
is a new module here that registers its creators with ``@creates`` and is imported below.
"""

from supportflow.local.resources import (  # noqa: F401 - imported to register their creators
    apigateway,
    apigatewayv2,
    cloudwatch,
    dynamodb,
    events,
    iam,
    lambda_,
    logs,
    s3,
    scheduler,
    secretsmanager,
    sns,
    sqs,
    stepfunctions,
)
from supportflow.local.resources.registry import (
    ALL_BRIDGE_KINDS,
    CREATORS,
    NOT_EMULATED,
    Bridge,
    BridgeKind,
    Created,
    Creator,
    Deployment,
    EventSourceSpec,
    FunctionSpec,
    ResourceInfo,
    Status,
    creates,
)

__all__ = [
    "ALL_BRIDGE_KINDS",
    "CREATORS",
    "NOT_EMULATED",
    "Bridge",
    "BridgeKind",
    "Created",
    "Creator",
    "Deployment",
    "EventSourceSpec",
    "FunctionSpec",
    "ResourceInfo",
    "Status",
    "creates",
]
