"""The template points the CRM update worker at the mock CRM (or the given one) and its key."""

from __future__ import annotations

from pathlib import Path

from supportflow.local.template import load_template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_the_worker_reads_the_mock_crms_url_and_secret_unless_a_crm_is_given() -> None:
    # Given the function's environment
    variables = TEMPLATE.resources["CrmUpdateFunction"]["Properties"]["Environment"]["Variables"]
    # Then URL and key come from the mock CRM under DeployMockCrm, else from the parameters
    url_condition, mock_url, given_url = variables["CRM_BASE_URL"]["Fn::If"]
    assert url_condition == "DeployMockCrm" and given_url == {"Ref": "CrmBaseUrl"}
    assert "${MockCrmApi}.execute-api" in mock_url["Fn::Sub"]
    assert variables["CRM_API_KEY_SECRET"]["Fn::If"] == [
        "DeployMockCrm",
        {"Ref": "MockCrmApiKeySecret"},
        {"Ref": "CrmApiKeySecretArn"},
    ]


def test_the_rule_feeds_it_analysed_tickets() -> None:
    # Given the CRM update rule, Then it routes TicketAnalyzed, the one event the worker merges today
    pattern = TEMPLATE.resources["CrmUpdateRule"]["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["TicketAnalyzed"]
