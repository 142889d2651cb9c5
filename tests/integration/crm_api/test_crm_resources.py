"""The mock CRM's resources exist in the emulator (or are listed as not emulated), and follow the condition."""

from __future__ import annotations

import pytest

from supportflow.local.stack import EmulatedStack
from supportflow.local.template import load_template
from tests.integration.local_stack.test_template_coverage import assert_every_resource_created_or_not_emulated

pytestmark = pytest.mark.integration


def test_every_resource_of_the_crm_stack_is_created_or_listed(crm_stack: EmulatedStack) -> None:
    # Given template.yaml with its mock CRM, Then each resource is in the emulator or listed as not emulated
    assert_every_resource_created_or_not_emulated(crm_stack)
    assert crm_stack.resources["MockCrmApi"].status == "created"


def test_a_real_crm_url_leaves_the_mock_crm_out(crm_stack: EmulatedStack) -> None:
    # Given a CrmBaseUrl, When the template is translated, Then every MockCrm resource is behind the condition
    template = load_template(crm_stack.template.path, {"CrmBaseUrl": "https://crm.example.com"})
    mock = {logical_id: body for logical_id, body in template.resources.items() if logical_id.startswith("MockCrm")}
    assert mock
    assert {body.get("Condition") for body in mock.values()} == {"DeployMockCrm"}
    assert template.parameters["CrmBaseUrl"] == "https://crm.example.com"
