"""Describe a created resource through the emulator's own API: one verifier per resource type."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from supportflow.local import EmulatedStack

Verifier = Callable[[EmulatedStack, str, str, dict[str, Any]], None]
VERIFIERS: dict[str, Verifier] = {}


def verifies(resource_type: str) -> Callable[[Verifier], Verifier]:
    """Register a verifier for ``resource_type``."""

    def register(verifier: Verifier) -> Verifier:
        VERIFIERS[resource_type] = verifier
        return verifier

    return register


def _with_refs_resolved(stack: EmulatedStack, value: Any) -> Any:
    """``value`` with every ``{"Ref": id}`` of a resource or parameter replaced by what it resolved to."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in stack.resources:
            return stack.physical_id(value["Ref"])
        if set(value) == {"Ref"} and value["Ref"] in stack.template.parameters:
            return stack.template.parameters[value["Ref"]]
        return {key: _with_refs_resolved(stack, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_refs_resolved(stack, item) for item in value]
    return value


@verifies("AWS::Events::EventBus")
def _bus(stack: EmulatedStack, logical_id: str, physical_id: str, _props: dict[str, Any]) -> None:
    assert stack.clients.events.describe_event_bus(Name=physical_id)["Name"] == physical_id


@verifies("AWS::Events::Archive")
def _archive(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    archive = stack.clients.events.describe_archive(ArchiveName=physical_id)
    assert archive["EventSourceArn"] == stack.attribute("EventBus", "Arn")
    assert archive["RetentionDays"] == int(stack.template.parameters["EventArchiveRetentionDays"])


@verifies("AWS::Events::Rule")
def _rule(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    bus, _, name = physical_id.rpartition("|")
    rule = stack.clients.events.describe_rule(Name=name, EventBusName=bus or "default")
    assert json.loads(rule["EventPattern"]) == _with_refs_resolved(stack, props["EventPattern"])
    targets = stack.clients.events.list_targets_by_rule(Rule=name, EventBusName=bus or "default")["Targets"]
    assert sorted(t["Id"] for t in targets) == sorted(t["Id"] for t in props["Targets"])
    bridges = {b.target_id: b.queue_arn for b in stack.bridges if b.rule_logical_id == logical_id}
    known_arns = {value for info in stack.resources.values() for value in (info.physical_id, *info.attributes.values())}
    for target in targets:
        # A target moto cannot deliver to points at its bridge queue; every other at the declared resource.
        assert target["Arn"] == bridges.get(target["Id"], target["Arn"])
        assert target["Arn"] in known_arns or target["Arn"] in bridges.values()


@verifies("AWS::SQS::Queue")
def _queue(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    attributes = stack.clients.sqs.get_queue_attributes(QueueUrl=physical_id, AttributeNames=["All"])["Attributes"]
    if "VisibilityTimeout" in props:
        assert attributes["VisibilityTimeout"] == str(props["VisibilityTimeout"])
    if "RedrivePolicy" in props:
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["maxReceiveCount"] == int(stack.template.parameters["QueueMaxReceiveCount"])
        assert redrive["deadLetterTargetArn"].startswith("arn:aws:sqs:")


@verifies("AWS::SQS::QueuePolicy")
def _queue_policy(stack: EmulatedStack, logical_id: str, _physical_id: str, props: dict[str, Any]) -> None:
    sids = {s["Sid"] for s in props["PolicyDocument"]["Statement"]}
    for queue in props["Queues"]:
        url = stack.physical_id(queue["Ref"])
        policy = stack.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
        assert {s["Sid"] for s in json.loads(policy["Policy"])["Statement"]} == sids


@verifies("AWS::DynamoDB::Table")
def _table(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    table = stack.clients.dynamodb.describe_table(TableName=physical_id)["Table"]
    assert table["KeySchema"] == props["KeySchema"]
    if "TimeToLiveSpecification" in props:
        ttl = stack.clients.dynamodb.describe_time_to_live(TableName=physical_id)["TimeToLiveDescription"]
        assert ttl.get("AttributeName") == props["TimeToLiveSpecification"]["AttributeName"]
        assert ttl.get("TimeToLiveStatus") == "ENABLED"


@verifies("AWS::SNS::Topic")
def _topic(stack: EmulatedStack, logical_id: str, physical_id: str, _props: dict[str, Any]) -> None:
    assert stack.clients.sns.get_topic_attributes(TopicArn=physical_id)["Attributes"]["TopicArn"] == physical_id


@verifies("AWS::SNS::TopicPolicy")
def _topic_policy(stack: EmulatedStack, logical_id: str, _physical_id: str, props: dict[str, Any]) -> None:
    sids = {s["Sid"] for s in props["PolicyDocument"]["Statement"]}
    for topic in props["Topics"]:
        attributes = stack.clients.sns.get_topic_attributes(TopicArn=stack.physical_id(topic["Ref"]))["Attributes"]
        assert {s["Sid"] for s in json.loads(attributes["Policy"])["Statement"]} == sids


@verifies("AWS::SNS::Subscription")
def _subscription(stack: EmulatedStack, logical_id: str, physical_id: str, _props: dict[str, Any]) -> None:
    assert stack.clients.sns.get_subscription_attributes(SubscriptionArn=physical_id)["Attributes"]


def _policy_arn(stack: EmulatedStack, arn: Any) -> str:
    """A managed policy ARN, or the ARN of the template's own policy a ``Ref`` names."""
    if isinstance(arn, dict) and "Ref" in arn:
        return str(stack.resources[arn["Ref"]].physical_id)
    return str(arn)


@verifies("AWS::IAM::Role")
def _role(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    stack.clients.iam.get_role(RoleName=physical_id)
    attached = stack.clients.iam.list_attached_role_policies(RoleName=physical_id)["AttachedPolicies"]
    expected = [_policy_arn(stack, arn) for arn in props.get("ManagedPolicyArns") or []]
    assert sorted(p["PolicyArn"] for p in attached) == sorted(expected)
    inline = stack.clients.iam.list_role_policies(RoleName=physical_id)["PolicyNames"]
    assert sorted(inline) == sorted(p["PolicyName"] for p in props.get("Policies") or [])


@verifies("AWS::IAM::ManagedPolicy")
def _managed_policy(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    policy = stack.clients.iam.get_policy(PolicyArn=physical_id)["Policy"]
    version = stack.clients.iam.get_policy_version(PolicyArn=physical_id, VersionId=policy["DefaultVersionId"])
    document = version["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(unquote(document))
    # The template's statements may be conditional (Fn::If): the emulator holds one per template entry.
    assert len(document["Statement"]) == len(props["PolicyDocument"]["Statement"])


@verifies("AWS::Lambda::Function")
def _function(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    configuration = stack.clients.lambda_.get_function(FunctionName=physical_id)["Configuration"]
    assert configuration["Handler"] == props["Handler"]
    assert set(configuration["Environment"]["Variables"]) == set(props["Environment"]["Variables"])


@verifies("AWS::Lambda::EventSourceMapping")
def _event_source_mapping(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    mapping = stack.clients.lambda_.get_event_source_mapping(UUID=physical_id)
    assert mapping["EventSourceArn"] == stack.attribute(props["EventSourceArn"]["Fn::GetAtt"][0], "Arn")
    assert mapping["BatchSize"] == props["BatchSize"]


@verifies("AWS::StepFunctions::StateMachine")
def _state_machine(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    described = stack.clients.stepfunctions.describe_state_machine(stateMachineArn=physical_id)
    definition = json.loads(described["definition"])
    assert "${" not in described["definition"], "DefinitionSubstitutions applied"
    assert definition["States"]


@verifies("AWS::S3::Bucket")
def _bucket(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    stack.clients.s3.head_bucket(Bucket=physical_id)
    if props.get("NotificationConfiguration"):
        configuration = stack.clients.s3.get_bucket_notification_configuration(Bucket=physical_id)
        declared = props["NotificationConfiguration"].get("QueueConfigurations") or []
        assert len(configuration.get("QueueConfigurations") or []) == len(declared)


@verifies("AWS::Scheduler::Schedule")
def _schedule(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    schedule = stack.clients.scheduler.get_schedule(Name=physical_id, GroupName=props.get("GroupName", "default"))
    assert schedule["ScheduleExpression"] == _with_refs_resolved(stack, props["ScheduleExpression"])


@verifies("AWS::CloudWatch::Alarm")
def _alarm(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    alarms = stack.client("cloudwatch").describe_alarms(AlarmNames=[physical_id])["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms] == [physical_id]


@verifies("AWS::Logs::LogGroup")
def _log_group(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=physical_id)["logGroups"]
    (group,) = [g for g in groups if g["logGroupName"] == physical_id]
    if props.get("RetentionInDays"):
        assert group["retentionInDays"] == int(props["RetentionInDays"])


@verifies("AWS::SecretsManager::Secret")
def _secret(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    value = stack.client("secretsmanager").get_secret_value(SecretId=physical_id)["SecretString"]
    length = (props.get("GenerateSecretString") or {}).get("PasswordLength")
    if length is not None:
        assert len(value) == int(length)


@verifies("AWS::ApiGateway::RestApi")
def _rest_api(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    apigateway = stack.client("apigateway")
    resources = apigateway.get_resources(restApiId=physical_id, limit=500)["items"]
    methods = {r["path"]: r.get("resourceMethods") or {} for r in resources}
    # (the raw Body's operations sit under Fn::If when the API has a Condition: its paths are literal)
    for path in (props.get("Body") or {}).get("paths", {}):
        assert methods.get(path), f"{logical_id}: {path} has no methods"


@verifies("AWS::ApiGateway::Deployment")
def _api_deployment(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    api_id = stack.physical_id(props["RestApiId"]["Ref"])
    assert stack.client("apigateway").get_deployment(restApiId=api_id, deploymentId=physical_id)["id"] == physical_id


@verifies("AWS::ApiGateway::Stage")
def _api_stage(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    api_id = stack.physical_id(props["RestApiId"]["Ref"])
    stage = stack.client("apigateway").get_stage(restApiId=api_id, stageName=physical_id)
    assert stage["deploymentId"] == stack.physical_id(props["DeploymentId"]["Ref"])


@verifies("AWS::ApiGateway::ApiKey")
def _api_key(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    key = stack.client("apigateway").get_api_key(apiKey=physical_id, includeValue=True)
    assert key["enabled"] is True
    assert "{{resolve:" not in key["value"]


@verifies("AWS::ApiGateway::UsagePlan")
def _usage_plan(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    plan = stack.client("apigateway").get_usage_plan(usagePlanId=physical_id)
    assert len(plan.get("apiStages") or []) == len(props.get("ApiStages") or [])


@verifies("AWS::ApiGateway::UsagePlanKey")
def _usage_plan_key(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    plan_id = stack.physical_id(props["UsagePlanId"]["Ref"])
    assert stack.client("apigateway").get_usage_plan_key(usagePlanId=plan_id, keyId=physical_id)["id"] == physical_id


def _v2_api_id(stack: EmulatedStack, props: dict[str, Any]) -> str:
    return stack.physical_id(props["ApiId"]["Ref"])


@verifies("AWS::ApiGatewayV2::Api")
def _v2_api(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    api = stack.client("apigatewayv2").get_api(ApiId=physical_id)
    assert api["ProtocolType"] == props["ProtocolType"]
    assert api.get("RouteSelectionExpression") == props.get("RouteSelectionExpression")


@verifies("AWS::ApiGatewayV2::Integration")
def _v2_integration(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    integration = stack.client("apigatewayv2").get_integration(
        ApiId=_v2_api_id(stack, props), IntegrationId=physical_id
    )
    assert integration["IntegrationType"] == props["IntegrationType"]


@verifies("AWS::ApiGatewayV2::Authorizer")
def _v2_authorizer(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    authorizer = stack.client("apigatewayv2").get_authorizer(ApiId=_v2_api_id(stack, props), AuthorizerId=physical_id)
    assert authorizer["AuthorizerType"] == props["AuthorizerType"]


@verifies("AWS::ApiGatewayV2::Route")
def _v2_route(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    route = stack.client("apigatewayv2").get_route(ApiId=_v2_api_id(stack, props), RouteId=physical_id)
    assert route["RouteKey"] == props["RouteKey"]
    if "AuthorizerId" in props:
        assert route["AuthorizerId"] == stack.physical_id(props["AuthorizerId"]["Ref"])


@verifies("AWS::ApiGatewayV2::Stage")
def _v2_stage(stack: EmulatedStack, logical_id: str, physical_id: str, props: dict[str, Any]) -> None:
    stage = stack.client("apigatewayv2").get_stage(ApiId=_v2_api_id(stack, props), StageName=physical_id)
    assert stage["StageName"] == physical_id
