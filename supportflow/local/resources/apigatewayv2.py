"""API Gateway v2 (WebSocket APIs): the API, its integrations, authorizers, routes and stages.

Deployed into the emulator so the template's WebSocket API exists as AWS would hold it; the local
WebSocket server (supportflow.local.websocket) serves it on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

from supportflow.local.resources.registry import Created, Deployment, creates

# CloudFormation property -> API Gateway v2 request parameter, for the properties each type passes through.
_API_FIELDS = {
    "Name": "Name",
    "Description": "Description",
    "ProtocolType": "ProtocolType",
    "RouteSelectionExpression": "RouteSelectionExpression",
    "ApiKeySelectionExpression": "ApiKeySelectionExpression",
}
_INTEGRATION_FIELDS = {
    "IntegrationType": "IntegrationType",
    "IntegrationUri": "IntegrationUri",
    "IntegrationMethod": "IntegrationMethod",
    "Description": "Description",
    "TimeoutInMillis": "TimeoutInMillis",
    "ContentHandlingStrategy": "ContentHandlingStrategy",
    "PassthroughBehavior": "PassthroughBehavior",
}
_AUTHORIZER_FIELDS = {
    "Name": "Name",
    "AuthorizerType": "AuthorizerType",
    "AuthorizerUri": "AuthorizerUri",
    "IdentitySource": "IdentitySource",
    "AuthorizerResultTtlInSeconds": "AuthorizerResultTtlInSeconds",
}
_ROUTE_FIELDS = {
    "RouteKey": "RouteKey",
    "Target": "Target",
    "AuthorizationType": "AuthorizationType",
    "AuthorizerId": "AuthorizerId",
    "ApiKeyRequired": "ApiKeyRequired",
    "OperationName": "OperationName",
    "RouteResponseSelectionExpression": "RouteResponseSelectionExpression",
}
_STAGE_FIELDS = {
    "StageName": "StageName",
    "Description": "Description",
    "AutoDeploy": "AutoDeploy",
    "StageVariables": "StageVariables",
}


def _request(properties: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    return {target: properties[source] for source, target in fields.items() if properties.get(source) is not None}


@creates("AWS::ApiGatewayV2::Api")
def create_api(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """The API; Ref is its id, ``ApiEndpoint`` the wss:// endpoint AWS would give it."""
    client = deployment.clients.client("apigatewayv2")
    request = _request(properties, _API_FIELDS)
    request.setdefault("Name", deployment.physical_name(logical_id))
    api = client.create_api(**request)
    api_id = str(api["ApiId"])
    endpoint = f"wss://{api_id}.execute-api.{deployment.region}.amazonaws.com"
    return Created(ref=api_id, attributes={"ApiId": api_id, "ApiEndpoint": endpoint})


@creates("AWS::ApiGatewayV2::Integration")
def create_integration(deployment: Deployment, _logical_id: str, properties: dict[str, Any]) -> Created:
    """A route target (the function, through AWS_PROXY); Ref is its id."""
    client = deployment.clients.client("apigatewayv2")
    created = client.create_integration(ApiId=properties["ApiId"], **_request(properties, _INTEGRATION_FIELDS))
    return Created(ref=str(created["IntegrationId"]))


@creates("AWS::ApiGatewayV2::Authorizer")
def create_authorizer(deployment: Deployment, _logical_id: str, properties: dict[str, Any]) -> Created:
    """A REQUEST authorizer; Ref is its id."""
    client = deployment.clients.client("apigatewayv2")
    created = client.create_authorizer(ApiId=properties["ApiId"], **_request(properties, _AUTHORIZER_FIELDS))
    return Created(ref=str(created["AuthorizerId"]))


@creates("AWS::ApiGatewayV2::Route")
def create_route(deployment: Deployment, _logical_id: str, properties: dict[str, Any]) -> Created:
    """A route key and its target; Ref is its id."""
    client = deployment.clients.client("apigatewayv2")
    created = client.create_route(ApiId=properties["ApiId"], **_request(properties, _ROUTE_FIELDS))
    return Created(ref=str(created["RouteId"]))


@creates("AWS::ApiGatewayV2::Stage")
def create_stage(deployment: Deployment, _logical_id: str, properties: dict[str, Any]) -> Created:
    """A stage (route throttling is API Gateway's own, not emulated); Ref is its name."""
    client = deployment.clients.client("apigatewayv2")
    created = client.create_stage(ApiId=properties["ApiId"], **_request(properties, _STAGE_FIELDS))
    return Created(ref=str(created["StageName"]), note="route throttling is not enforced locally")
