"""The mock CRM as the local stack serves it: its URL and the API key from its secret.

The CRM needs neither queue workers nor Bedrock, so these tests boot a stack of their own without
them (a stage of its own in the same emulator): quicker, and independent of the workers' state.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from supportflow.local.stack import EmulatedStack


@dataclass(frozen=True)
class CrmEndpoint:
    """Where the locally served mock CRM answers, and the key it accepts."""

    url: str
    api_key: str

    def call(self, method: str, path: str, *, key: str | None = "", **kwargs: object) -> requests.Response:
        """One HTTP request; ``key`` "" means the right key, None none at all."""
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if key is not None:
            headers["x-api-key"] = key or self.api_key
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def crm_stack() -> Iterator[EmulatedStack]:
    """template.yaml deployed with its APIs served, no workers, no Bedrock."""
    with EmulatedStack.start(stage=f"crm-{uuid.uuid4().hex[:6]}", workers=False, bedrock=False) as stack:
        yield stack


@pytest.fixture(scope="session")
def crm(crm_stack: EmulatedStack) -> CrmEndpoint:
    """The served MockCrmApi at its stage URL, with the key read from the secret the template made."""
    api = crm_stack.apis["MockCrmApi"]
    secret_arn = crm_stack.outputs["MockCrmApiKeySecretArn"]
    secret = crm_stack.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    return CrmEndpoint(url=api.url, api_key=secret["SecretString"])
