"""The authorizer's translation: API Gateway's REQUEST event to credentials, a decision to the IAM policy it reads."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)

from workers.authorizer.logic import Authorizer, Credentials

logger = Logger(child=True)


def credentials_of(event: APIGatewayAuthorizerRequestEvent) -> Credentials:
    """The x-api-key header and the bearer token, header names case-insensitive (query too, for WebSocket)."""
    headers = {str(k).lower(): str(v) for k, v in (event.headers or {}).items()}
    query = event.query_string_parameters or {}
    authorization = headers.get("authorization", "")
    bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else query.get("token")
    return Credentials(api_key=headers.get("x-api-key") or query.get("api_key"), bearer_token=bearer or None)


def policy(principal: str, effect: str, method_arn: str, context: dict[str, Any]) -> dict[str, Any]:
    """An IAM policy for every method of the stage (so a cached answer covers all routes), with context."""
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path → allow api-id/stage/*
    prefix = "/".join(method_arn.split("/", 2)[:2])
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{prefix}/*"}],
        },
        "context": context,
    }


def authorize(authorizer: Authorizer, event: dict[str, Any]) -> dict[str, Any]:
    """Allow or deny the caller; raise ``Unauthorized`` (API Gateway's 401) for unknown credentials."""
    request = APIGatewayAuthorizerRequestEvent(event)
    decision = authorizer.decide(credentials_of(request))
    effect = "Allow" if decision.allowed else "Deny"
    logger.info("caller authorized", extra={"tenant_id": decision.tenant.tenant_id, "effect": effect})
    return policy(decision.tenant.tenant_id, effect, request.method_arn, decision.context())
