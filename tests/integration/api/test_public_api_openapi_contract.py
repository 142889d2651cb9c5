"""The served public API against its committed OpenAPI document (schemathesis): no 5xx, answers match the schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.conftest import PublicApi
from workers.api.openapi import OPENAPI_PATH

pytestmark = pytest.mark.integration

schema = schemathesis.openapi.from_path(OPENAPI_PATH)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms_to_the_committed_document(
    case: schemathesis.Case[Any], public_api: PublicApi
) -> None:
    # Given generated requests for every documented operation, with a tenant's key (a budget it cannot spend here)
    # When each is sent through the local gateway (authorizer, validator, function)
    # Then no 5xx, and status, headers and body match the document
    case.headers = CaseInsensitiveDict({**dict(case.headers or {}), "x-api-key": public_api.keys["fuzz"]})
    case.call_and_validate(base_url=public_api.url, checks=CHECKS)
