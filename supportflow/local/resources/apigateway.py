"""API Gateway (REST): APIs from their OpenAPI body or explicit resources and methods, deployments,
stages, API keys and usage plans; from a body also Lambda authorizers, models, request validators and
gateway responses. The local server (supportflow.local.apigateway) reads them back."""

from __future__ import annotations

import json
from typing import Any

from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources.registry import Created, Deployment, creates, tags
from supportflow.local.resources.secretsmanager import resolve_dynamic_references

# OpenAPI/Swagger methods API Gateway accepts; "x-amazon-apigateway-any-method" is ANY.
_METHODS = {
    "get": "GET",
    "put": "PUT",
    "post": "POST",
    "patch": "PATCH",
    "delete": "DELETE",
    "head": "HEAD",
    "options": "OPTIONS",
    "x-amazon-apigateway-any-method": "ANY",
}


@creates("AWS::ApiGateway::RestApi")
def create_rest_api(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """REST API; an inline OpenAPI ``Body`` (what SAM generates) becomes its resources, methods, integrations."""
    apigateway = deployment.clients.client("apigateway")
    body = properties.get("Body")
    name = properties.get("Name") or (body or {}).get("info", {}).get("title") or deployment.physical_name(logical_id)
    kwargs: dict[str, Any] = {"name": str(name)}
    if properties.get("Description"):
        kwargs["description"] = properties["Description"]
    if properties.get("ApiKeySourceType"):
        kwargs["apiKeySource"] = properties["ApiKeySourceType"]
    if tags(properties):
        kwargs["tags"] = {t["Key"]: t["Value"] for t in tags(properties)}
    if properties.get("BodyS3Location"):
        msg = f"{logical_id}: only an inline Body is deployed locally, not BodyS3Location"
        raise TemplateError(msg)
    api = apigateway.create_rest_api(**kwargs)
    api_id = str(api["id"])
    root_id = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    if body:
        _import_body(apigateway, api_id, root_id, body)
    return Created(ref=api_id, attributes={"RestApiId": api_id, "RootResourceId": root_id})


def _import_body(apigateway: Any, api_id: str, root_id: str, body: dict[str, Any]) -> None:
    schemes = body.get("securityDefinitions") or body.get("components", {}).get("securitySchemes") or {}
    key_schemes = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "apiKey"
        and str(scheme.get("name", "")).lower() == "x-api-key"
        and "x-amazon-apigateway-authorizer" not in scheme
    }
    authorizers = _create_authorizers(apigateway, api_id, schemes)
    models = _create_models(apigateway, api_id, body)
    validators = {
        name: apigateway.create_request_validator(
            restApiId=api_id,
            name=name,
            validateRequestBody=bool(spec.get("validateRequestBody")),
            validateRequestParameters=bool(spec.get("validateRequestParameters")),
        )["id"]
        for name, spec in (body.get("x-amazon-apigateway-request-validators") or {}).items()
    }
    for response_type, response in (body.get("x-amazon-apigateway-gateway-responses") or {}).items():
        kwargs: dict[str, Any] = {"restApiId": api_id, "responseType": response_type}
        if response.get("statusCode"):
            kwargs["statusCode"] = str(response["statusCode"])
        if response.get("responseTemplates"):
            kwargs["responseTemplates"] = response["responseTemplates"]
        apigateway.put_gateway_response(**kwargs)
    default_security = body.get("security") or []
    default_validator = body.get("x-amazon-apigateway-request-validator")
    resource_ids = {"/": root_id}
    for path, operations in (body.get("paths") or {}).items():
        resource_id = _ensure_resource(apigateway, api_id, resource_ids, str(path))
        for key, operation in (operations or {}).items():
            method = _METHODS.get(key.lower())
            if method is None or not isinstance(operation, dict):
                continue
            security = operation.get("security", default_security) or []
            api_key_required = any(set(requirement) & key_schemes for requirement in security)
            authorizer_id = next((authorizers[n] for r in security for n in r if n in authorizers), None)
            validator = operation.get("x-amazon-apigateway-request-validator", default_validator)
            integration = operation.get("x-amazon-apigateway-integration") or {}
            _put_method(
                apigateway,
                api_id,
                resource_id,
                method,
                api_key_required=api_key_required,
                integration=integration,
                authorizer_id=authorizer_id,
                request_model=_body_model(operation, models),
                validator_id=validators.get(validator) if validator else None,
            )


def _create_authorizers(apigateway: Any, api_id: str, schemes: dict[str, Any]) -> dict[str, str]:
    """Lambda authorizers declared as security schemes (what SAM's Auth.Authorizers generates)."""
    created: dict[str, str] = {}
    for name, scheme in schemes.items():
        authorizer = scheme.get("x-amazon-apigateway-authorizer")
        if not authorizer:
            continue
        kind = str(authorizer.get("type", "token")).upper()
        kwargs: dict[str, Any] = {
            "restApiId": api_id,
            "name": name,
            "type": kind,
            "authorizerUri": str(authorizer.get("authorizerUri", "")),
            "identitySource": str(
                authorizer.get("identitySource") or f"method.request.header.{scheme.get('name', 'Authorization')}"
            ),
        }
        if authorizer.get("authorizerResultTtlInSeconds") is not None:
            kwargs["authorizerResultTtlInSeconds"] = int(authorizer["authorizerResultTtlInSeconds"])
        if kind == "COGNITO_USER_POOLS":
            msg = f"authorizer {name}: Cognito user pool authorizers are not emulated locally"
            raise TemplateError(msg)
        created[name] = apigateway.create_authorizer(**kwargs)["id"]
    return created


def _create_models(apigateway: Any, api_id: str, body: dict[str, Any]) -> dict[str, str]:
    """Swagger definitions (or OpenAPI component schemas) as models; returns reference → model name."""
    definitions = body.get("definitions") or body.get("components", {}).get("schemas") or {}
    prefix = "#/definitions/" if "definitions" in body else "#/components/schemas/"
    names: dict[str, str] = {}
    for name, schema in definitions.items():
        apigateway.create_model(restApiId=api_id, name=name, contentType="application/json", schema=json.dumps(schema))
        names[prefix + name] = name
    return names


def _body_model(operation: dict[str, Any], models: dict[str, str]) -> str | None:
    for parameter in operation.get("parameters") or []:
        if parameter.get("in") == "body":
            return models.get(str((parameter.get("schema") or {}).get("$ref", "")))
    content = (operation.get("requestBody") or {}).get("content") or {}
    reference = str(((content.get("application/json") or {}).get("schema") or {}).get("$ref", ""))
    return models.get(reference)


def _ensure_resource(apigateway: Any, api_id: str, resource_ids: dict[str, str], path: str) -> str:
    parent = "/"
    for part in [p for p in path.split("/") if p]:
        current = f"{parent.rstrip('/')}/{part}"
        if current not in resource_ids:
            created = apigateway.create_resource(restApiId=api_id, parentId=resource_ids[parent], pathPart=part)
            resource_ids[current] = created["id"]
        parent = current
    return resource_ids[parent]


def _put_method(
    apigateway: Any,
    api_id: str,
    resource_id: str,
    method: str,
    *,
    api_key_required: bool,
    integration: dict[str, Any],
    authorizer_id: str | None = None,
    request_model: str | None = None,
    validator_id: str | None = None,
) -> None:
    kwargs: dict[str, Any] = {}
    if authorizer_id:
        kwargs["authorizerId"] = authorizer_id
    if request_model:
        kwargs["requestModels"] = {"application/json": request_model}
    if validator_id:
        kwargs["requestValidatorId"] = validator_id
    apigateway.put_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=method,
        authorizationType="CUSTOM" if authorizer_id else "NONE",
        apiKeyRequired=api_key_required,
        **kwargs,
    )
    if integration:
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod=method,
            type=str(integration.get("type", "aws_proxy")).upper(),
            integrationHttpMethod=str(integration.get("httpMethod", "POST")),
            uri=str(integration.get("uri", "")),
        )


@creates("AWS::ApiGateway::Resource")
def create_resource(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """A path part under a parent resource."""
    created = deployment.clients.client("apigateway").create_resource(
        restApiId=properties["RestApiId"], parentId=properties["ParentId"], pathPart=properties["PathPart"]
    )
    return Created(ref=created["id"], attributes={"ResourceId": created["id"]})


@creates("AWS::ApiGateway::Method")
def create_method(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """A method with its integration (only Lambda proxy integrations are served locally)."""
    integration = properties.get("Integration") or {}
    if properties.get("AuthorizationType", "NONE") not in ("NONE", None):
        msg = f"{logical_id}: authorizers are not emulated locally; only NONE with API keys"
        raise TemplateError(msg)
    _put_method(
        deployment.clients.client("apigateway"),
        str(properties["RestApiId"]),
        str(properties["ResourceId"]),
        str(properties["HttpMethod"]).upper(),
        api_key_required=str(properties.get("ApiKeyRequired", "false")).lower() == "true",
        integration={
            "type": integration.get("Type"),
            "httpMethod": integration.get("IntegrationHttpMethod"),
            "uri": integration.get("Uri"),
        }
        if integration
        else {},
    )
    return Created(ref=f"{properties['RestApiId']}-{properties['ResourceId']}-{properties['HttpMethod']}")


@creates("AWS::ApiGateway::Deployment")
def create_deployment(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """A deployment (SAM's also creates the throwaway stage "Stage", as CloudFormation does)."""
    kwargs: dict[str, Any] = {"restApiId": properties["RestApiId"]}
    for source, target in (("StageName", "stageName"), ("Description", "description")):
        if properties.get(source):
            kwargs[target] = properties[source]
    created = deployment.clients.client("apigateway").create_deployment(**kwargs)
    return Created(ref=created["id"], attributes={"DeploymentId": created["id"]})


@creates("AWS::ApiGateway::Stage")
def create_stage(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """A stage of a deployment; its URL locally is the API's server plus ``/<stage>``."""
    kwargs: dict[str, Any] = {
        "restApiId": properties["RestApiId"],
        "stageName": properties["StageName"],
        "deploymentId": properties["DeploymentId"],
    }
    if properties.get("Description"):
        kwargs["description"] = properties["Description"]
    if properties.get("Variables"):
        kwargs["variables"] = {str(k): str(v) for k, v in properties["Variables"].items()}
    deployment.clients.client("apigateway").create_stage(**kwargs)
    return Created(ref=str(properties["StageName"]), note="served on 127.0.0.1 by a local API process")


@creates("AWS::ApiGateway::ApiKey")
def create_api_key(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """An API key; a ``{{resolve:secretsmanager:…}}`` value is read from the emulator's secret."""
    kwargs: dict[str, Any] = {
        "name": properties.get("Name") or deployment.physical_name(logical_id, 128),
        "enabled": str(properties.get("Enabled", "true")).lower() == "true",
    }
    if properties.get("Value") is not None:
        kwargs["value"] = resolve_dynamic_references(deployment, str(properties["Value"]))
    if properties.get("Description"):
        kwargs["description"] = properties["Description"]
    if properties.get("StageKeys"):
        kwargs["stageKeys"] = [
            {"restApiId": k.get("RestApiId"), "stageName": k.get("StageName")} for k in properties["StageKeys"]
        ]
    created = deployment.clients.client("apigateway").create_api_key(**kwargs)
    return Created(ref=created["id"], attributes={"APIKeyId": created["id"]})


@creates("AWS::ApiGateway::UsagePlan")
def create_usage_plan(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """A usage plan tying keys to API stages (throttle and quota are stored, not enforced, locally)."""
    kwargs: dict[str, Any] = {"name": properties.get("UsagePlanName") or deployment.physical_name(logical_id, 128)}
    stages = [{"apiId": s["ApiId"], "stage": s["Stage"]} for s in properties.get("ApiStages") or []]
    if stages:
        kwargs["apiStages"] = stages
    if properties.get("Description"):
        kwargs["description"] = properties["Description"]
    throttle = properties.get("Throttle")
    if throttle:
        kwargs["throttle"] = {
            "burstLimit": int(throttle.get("BurstLimit", 0)),
            "rateLimit": float(throttle.get("RateLimit", 0)),
        }
    quota = properties.get("Quota")
    if quota:
        kwargs["quota"] = {
            "limit": int(quota["Limit"]),
            "period": quota["Period"],
            "offset": int(quota.get("Offset", 0)),
        }
    created = deployment.clients.client("apigateway").create_usage_plan(**kwargs)
    return Created(
        ref=created["id"], attributes={"Id": created["id"]}, note="throttle and quota are not enforced locally"
    )


@creates("AWS::ApiGateway::UsagePlanKey")
def create_usage_plan_key(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """An API key's membership of a usage plan."""
    created = deployment.clients.client("apigateway").create_usage_plan_key(
        usagePlanId=properties["UsagePlanId"], keyId=properties["KeyId"], keyType=properties.get("KeyType", "API_KEY")
    )
    return Created(ref=created["id"], attributes={"Id": created["id"]})
