"""The mock CRM through real HTTP on the locally served API Gateway: keys, versions, one case per ticket."""

from __future__ import annotations

import pytest

from supportflow.local.stack import EmulatedStack
from tests.integration.crm_api.conftest import CrmEndpoint

pytestmark = pytest.mark.integration


def test_the_api_is_served_at_its_stage_url_and_named_in_the_outputs(crm_stack: EmulatedStack) -> None:
    # Given the stack, Then MockCrmApi answers on 127.0.0.1 under its stage, and the output points there
    api = crm_stack.apis["MockCrmApi"]
    assert api.url == f"http://127.0.0.1:{api.port}/{crm_stack.stage}"
    assert crm_stack.outputs["MockCrmUrl"] == api.url


def test_without_a_valid_api_key_api_gateway_answers_403(crm: CrmEndpoint, unique_id: str) -> None:
    # When the CRM is called without a key, or with a wrong one
    for key in (None, "not-the-key"):
        response = crm.call("GET", f"/customers/{unique_id}", key=key)
        # Then API Gateway refuses it before the function runs
        assert response.status_code == 403
        assert response.json() == {"message": "Forbidden"}


def test_an_unknown_route_is_api_gateways_403(crm: CrmEndpoint) -> None:
    response = crm.call("DELETE", "/customers/x")
    assert (response.status_code, response.json()) == (403, {"message": "Missing Authentication Token"})


def test_create_a_customer_and_read_it_back(crm: CrmEndpoint, unique_id: str) -> None:
    # When a customer is created
    created = crm.call("PUT", f"/customers/{unique_id}", json={"name": "Ada", "tier": "premium"})
    # Then 201 with ETag "1", and a GET answers the same record
    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    read = crm.call("GET", f"/customers/{unique_id}")
    assert read.status_code == 200
    assert read.json() == created.json()


def test_creating_the_case_of_a_ticket_twice_makes_one_case(crm: CrmEndpoint, unique_id: str) -> None:
    # Given a customer
    crm.call("PUT", f"/customers/{unique_id}", json={"name": "Bo"})
    # When the case of one ticket is created twice (a retried request)
    first = crm.call("PUT", f"/customers/{unique_id}/cases/T-{unique_id}", json={"subject": "refund"})
    again = crm.call("PUT", f"/customers/{unique_id}/cases/T-{unique_id}", json={"subject": "refund"})
    # Then the second answers the first case, and the customer has exactly one
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    cases = crm.call("GET", f"/customers/{unique_id}/cases").json()["cases"]
    assert [case["case_id"] for case in cases] == [first.json()["case_id"]]


def test_a_stale_if_match_is_412_and_changes_nothing(crm: CrmEndpoint, unique_id: str) -> None:
    # Given a case at version 1, patched once to version 2
    crm.call("PUT", f"/customers/{unique_id}", json={"name": "Cy"})
    case_id = crm.call("PUT", f"/customers/{unique_id}/cases/T1", json={}).json()["case_id"]
    patched = crm.call("PATCH", f"/cases/{case_id}", json={"status": "pending"}, headers={"If-Match": '"1"'})
    assert (patched.status_code, patched.headers["ETag"]) == (200, '"2"')
    # When another writer patches with the version it read before (1)
    stale = crm.call("PATCH", f"/cases/{case_id}", json={"status": "closed"}, headers={"If-Match": '"1"'})
    missing = crm.call("PATCH", f"/cases/{case_id}", json={"status": "closed"})
    # Then 412 (and 428 without If-Match) in the one error shape; the case is unchanged
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert crm.call("GET", f"/cases/{case_id}").json()["status"] == "pending"


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "Ada", "tier": "gold"}, {"nom": "Ada"}, "not json at all"],
)
def test_a_malformed_body_is_422_by_validation(crm: CrmEndpoint, unique_id: str, body: object) -> None:
    # When a body breaks the request model, Then validation answers 422 in the error shape
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}
    response = crm.call("PUT", f"/customers/{unique_id}", **kwargs)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
