"""The feedback CLI's pure parts: the file's id, the resources' local names, the one-line outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from supportflow.feedback_cli import Clients, feedback_id_for, job_rows, local_resources, outcome


def answered(output: dict[str, Any]) -> dict[str, Any]:
    return {"taskSucceededEventDetails": {"output": json.dumps(output)}}


def test_a_file_gets_the_same_id_for_the_same_content_and_a_safe_name() -> None:
    # Given a file name with spaces and two contents
    path = Path("my feedback (1).pdf")
    # Then the id keeps a safe stem and changes only with the content
    assert feedback_id_for(path, b"a") == feedback_id_for(path, b"a")
    assert feedback_id_for(path, b"a") != feedback_id_for(path, b"b")
    assert feedback_id_for(path, b"a").startswith("my-feedback-1-")


def test_local_names_follow_the_local_deployer() -> None:
    # When the local stack of stage "local" is named
    resources = local_resources("local", "us-east-1")
    # Then the names are the deployer's generated ones, and the state machine's given name
    assert resources.bucket == "supportflow-local-feedbackbucket"
    assert resources.jobs_table == "supportflow-local-FeedbackJobsTable"
    assert resources.state_machine_arn.endswith(":stateMachine:supportflow-local-feedback")


def test_a_failed_run_says_why_in_one_line() -> None:
    # Given a history whose failure step answered with the reason
    events = [answered({"status": "InProgress"}), answered({"failed": True, "reason": "unsupported file type"})]
    # Then the outcome is that reason
    assert outcome(events, "FAILED") == "failed: unsupported file type"


def test_an_analysed_run_names_the_sentiment_and_event() -> None:
    # Given a history whose results step answered
    events = [answered({"status": "Success"}), answered({"event_id": "e-1", "sentiment": "negative", "failed": False})]
    # Then the outcome says so
    assert outcome(events, "SUCCEEDED") == "analyzed: sentiment negative (FeedbackAnalyzed e-1)"


class FakeTable:
    """DynamoDB's scan of the jobs table."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def scan(self, **_: Any) -> dict[str, Any]:
        return {"Items": self.items}


class FakeAutomation:
    """GetDataAutomationStatus: every asked-for job has finished."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_data_automation_status(self, invocationArn: str) -> dict[str, Any]:
        self.asked.append(invocationArn)
        return {"status": "Success"}


def item(uri: str, status: str, arn: str) -> dict[str, Any]:
    return {"input_uri": {"S": uri}, "job_status": {"S": status}, "invocation_arn": {"S": arn}}


def test_jobs_lists_stored_jobs_asking_the_service_only_for_running_ones() -> None:
    # Given one finished and one running job in the table
    arn = "arn:aws:bedrock:us-east-1:123456789012:data-automation-invocation/"
    table = FakeTable(
        [
            item("s3://b/feedback/a.txt", "ClientError", f"{arn}1"),
            item("s3://b/feedback/b.txt", "InProgress", f"{arn}2"),
        ]
    )
    automation = FakeAutomation()
    clients = Clients(s3=None, dynamodb=table, stepfunctions=None, data_automation=automation)
    # When the jobs are listed
    rows = job_rows(clients, local_resources("local", "us-east-1"))
    # Then both are shown, the running one with its live state, and only it was asked about
    assert [(r["job"], r["state"], r["subject"]) for r in rows] == [
        ("1", "ClientError", "s3://b/feedback/a.txt"),
        ("2", "Success", "s3://b/feedback/b.txt"),
    ]
    assert automation.asked == [f"{arn}2"]
