"""The template points the CRM update worker at the mock CRM (or the given one) and its key."""

from __future__ import annotations

from pathlib import Path

from supportflow.local.template import load_template
from workers.crm_update.handler import lambda_handler

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


def test_the_rule_feeds_it_the_events_it_merges() -> None:
    # Given the CRM update rule and the worker's handler
    pattern = TEMPLATE.resources["CrmUpdateRule"]["Properties"]["EventPattern"]
    # Then it routes exactly the detail-types the worker merges: analysis, draft, escalation outcome
    assert sorted(pattern["detail-type"]) == sorted(lambda_handler.reader.consumes)
    assert sorted(pattern["detail-type"]) == ["EscalationResolved", "ResponseDrafted", "TicketAnalyzed"]
