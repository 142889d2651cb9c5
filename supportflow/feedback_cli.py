"""``supportflow feedback submit FILE`` and ``supportflow jobs``: feedback in, its job followed to the end.

Locally the stack's resources are found by the names the local deployer gives them (``supportflow-<stage>-``
+ logical id); on AWS by the CloudFormation stack's outputs. Data Automation and batch inference are reached
through boto3's own endpoint settings (``AWS_ENDPOINT_URL_BEDROCK_DATA_AUTOMATION_RUNTIME``,
``AWS_ENDPOINT_URL_BEDROCK``), so the offline Bedrock serves them when those point at it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workers.feedback.intake import CUSTOMER_META, FEEDBACK_META, execution_name

FEEDBACK_PREFIX = "feedback/"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class FeedbackResources:
    """Where feedback goes and how its jobs are followed, in one deployed stack."""

    bucket: str
    jobs_table: str
    state_machine_arn: str


@dataclass(frozen=True)
class Clients:
    """The boto3 clients the commands use (injectable for tests)."""

    s3: Any
    dynamodb: Any
    stepfunctions: Any
    data_automation: Any | None = None
    bedrock: Any | None = None


def local_resources(stage: str, region: str, account: str = "123456789012") -> FeedbackResources:
    """The names the local deployer gives the stack's feedback resources."""
    stack = f"supportflow-{stage}"
    return FeedbackResources(
        bucket=f"{stack}-FeedbackBucket".lower()[:63],
        jobs_table=f"{stack}-FeedbackJobsTable",
        state_machine_arn=f"arn:aws:states:{region}:{account}:stateMachine:{stack}-feedback",
    )


def stack_resources(cloudformation: Any, stack_name: str) -> FeedbackResources:
    """The feedback resources a deployed CloudFormation stack names in its outputs."""
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs") or []
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    try:
        return FeedbackResources(
            values["FeedbackBucketName"], values["FeedbackJobsTableName"], values["FeedbackStateMachineArn"]
        )
    except KeyError as missing:
        raise SystemExit(f"supportflow: stack {stack_name} has no {missing.args[0]} output") from None


def feedback_id_for(path: Path, content: bytes) -> str:
    """A stable id for a file: its name and a digest of its content (the same file, the same id)."""
    stem = _UNSAFE.sub("-", path.stem).strip("-.")[:40] or "feedback"
    return f"{stem}-{hashlib.sha256(content).hexdigest()[:10]}"


def upload(clients: Clients, resources: FeedbackResources, path: Path, customer_id: str | None) -> tuple[str, str]:
    """Put the file under feedback/ with the customer in its metadata; (feedback id, s3 URI)."""
    content = path.read_bytes()
    feedback_id = feedback_id_for(path, content)
    key = f"{FEEDBACK_PREFIX}{feedback_id}{path.suffix.lower()}"
    metadata = {FEEDBACK_META: feedback_id, **({CUSTOMER_META: customer_id} if customer_id else {})}
    answer = clients.s3.put_object(Bucket=resources.bucket, Key=key, Body=content, Metadata=metadata)
    uri = f"s3://{resources.bucket}/{key}"
    return feedback_id, f"{uri}#{answer.get('VersionId') or ''}"


def find_execution(clients: Clients, resources: FeedbackResources, versioned_uri: str, since: datetime) -> str | None:
    """The execution following the upload: by its derived name, else the newest whose input names the object."""
    uri, _, version = versioned_uri.partition("#")
    if version:
        arn = f"{resources.state_machine_arn.replace(':stateMachine:', ':execution:')}:{execution_name(uri, version)}"
        try:
            clients.stepfunctions.describe_execution(executionArn=arn)
        except clients.stepfunctions.exceptions.ExecutionDoesNotExist:
            pass
        else:
            return arn
    listed = clients.stepfunctions.list_executions(stateMachineArn=resources.state_machine_arn, maxResults=50)
    for execution in listed.get("executions", []):
        if execution["startDate"] < since:
            continue
        described = clients.stepfunctions.describe_execution(executionArn=execution["executionArn"])
        feedback = json.loads(described.get("input") or "{}").get("feedback") or {}
        if feedback.get("document_uri") == uri:
            return str(execution["executionArn"])
    return None


def follow(
    clients: Clients, execution_arn: str, say: Callable[[str], None], timeout: float, interval: float = 1.0
) -> tuple[str, str]:
    """Print each state the execution enters until it ends; (status, one-line outcome)."""
    seen = 0
    deadline = time.monotonic() + timeout
    while True:
        events = list(_history(clients.stepfunctions, execution_arn))
        for event in events[seen:]:
            entered = event.get("stateEnteredEventDetails")
            if entered:
                say(f"  {entered['name']}")
        seen = len(events)
        status = clients.stepfunctions.describe_execution(executionArn=execution_arn)["status"]
        if status in TERMINAL:
            return status, outcome(events, status)
        if time.monotonic() > deadline:
            return "RUNNING", f"still running after {timeout:.0f} s (see `supportflow jobs`)"
        time.sleep(interval)


def _history(stepfunctions: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = stepfunctions.get_execution_history(
            executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        yield from page["events"]
        token = page.get("nextToken")
        if not token:
            return


def outcome(events: list[dict[str, Any]], status: str) -> str:
    """One line: the analysis (sentiment) or why it failed, from the tasks' answers in the history."""
    answers = [
        json.loads(event["taskSucceededEventDetails"].get("output") or "{}")
        for event in events
        if event.get("taskSucceededEventDetails")
    ]
    failed = next((a for a in reversed(answers) if a.get("failed")), None)
    if failed is not None:
        return f"failed: {failed.get('reason') or 'no reason given'}"
    analyzed = next((a for a in reversed(answers) if "sentiment" in a), None)
    if status == "SUCCEEDED" and analyzed is not None:
        return f"analyzed: sentiment {analyzed['sentiment']} (FeedbackAnalyzed {analyzed.get('event_id')})"
    return f"ended {status.lower()}"


def submit(
    clients: Clients,
    resources: FeedbackResources,
    path: Path,
    customer_id: str | None,
    say: Callable[[str], None],
    *,
    timeout: float = 300.0,
) -> int:
    """Upload, then follow the job; 0 when analysed, 1 when it failed (said in one line)."""
    since = datetime.now(UTC).replace(microsecond=0)
    feedback_id, versioned_uri = upload(clients, resources, path, customer_id)
    say(f"feedback {feedback_id} uploaded to {versioned_uri.partition('#')[0]}")
    deadline = time.monotonic() + timeout
    execution = None
    while execution is None:
        execution = find_execution(clients, resources, versioned_uri, since)
        if execution is None:
            if time.monotonic() > deadline:
                say(f"feedback {feedback_id}: failed: no execution started within {timeout:.0f} s")
                return 1
            time.sleep(1.0)
    status, line = follow(clients, execution, say, max(1.0, deadline - time.monotonic()))
    say(f"feedback {feedback_id}: {line}")
    return 0 if status == "SUCCEEDED" and not line.startswith("failed") else 1


def job_rows(clients: Clients, resources: FeedbackResources) -> list[dict[str, str]]:
    """Data Automation jobs from the jobs table (live status while running) and any batch inference jobs."""
    rows: list[dict[str, str]] = []
    scan = clients.dynamodb.scan(TableName=resources.jobs_table, Limit=200)
    for item in scan.get("Items", []):
        status = item.get("job_status", {}).get("S", "")
        arn = item.get("invocation_arn", {}).get("S", "")
        if status in {"Created", "InProgress"} and arn and clients.data_automation is not None:
            status = clients.data_automation.get_data_automation_status(invocationArn=arn)["status"]
        rows.append(
            {
                "kind": "data-automation",
                "job": arn.rsplit("/", 1)[-1] or "-",
                "state": status or "-",
                "subject": item["input_uri"]["S"],
            }
        )
    if clients.bedrock is not None:
        try:
            summaries = clients.bedrock.list_model_invocation_jobs(maxResults=100).get("invocationJobSummaries", [])
        except Exception:
            summaries = []
        rows.extend(
            {"kind": "batch", "job": s["jobName"], "state": s["status"], "subject": s.get("modelId", "")}
            for s in summaries
        )
    return rows


def with_commands(parser: argparse.ArgumentParser, commands: Any) -> argparse.ArgumentParser:
    """``parser`` with the ``feedback submit`` and ``jobs`` subcommands added to ``commands`` (its subparsers)."""

    def deployed(command: argparse.ArgumentParser) -> None:
        command.add_argument("--stage", default="local", help="a running `supportflow up --stage` (default local)")
        command.add_argument("--endpoint-url", default=None, help="the local stack's emulator ($AWS_ENDPOINT_URL)")
        command.add_argument("--stack", default=None, help="a deployed CloudFormation stack (normal credential chain)")
        command.add_argument("--region", default=None)

    feedback = commands.add_parser("feedback", help="customer feedback through Bedrock Data Automation")
    actions = feedback.add_subparsers(dest="feedback_action", required=True)
    submit_command = actions.add_parser("submit", help="upload a feedback file and follow its job to the end")
    submit_command.add_argument("file", type=Path)
    submit_command.add_argument("--customer", default=None, help="the customer id the feedback is from")
    submit_command.add_argument("--timeout", type=float, default=300.0, help="seconds to follow the job")
    deployed(submit_command)
    jobs = commands.add_parser("jobs", help="Data Automation and batch inference jobs with their state")
    deployed(jobs)
    return parser


def _connect(args: argparse.Namespace) -> tuple[Clients, FeedbackResources]:
    import boto3  # noqa: PLC0415 - keeps the other commands light

    region = args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    session = boto3.session.Session(region_name=region)
    optional = {"data_automation": "bedrock-data-automation-runtime", "bedrock": "bedrock"}
    if args.stack:
        extra = {name: session.client(service) for name, service in optional.items()}  # type: ignore[call-overload]
        clients = Clients(session.client("s3"), session.client("dynamodb"), session.client("stepfunctions"), **extra)
        return clients, stack_resources(session.client("cloudformation"), args.stack)
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise SystemExit("supportflow: give --stack NAME (AWS) or --endpoint-url / $AWS_ENDPOINT_URL (local)")
    keys = {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }
    local = {name: session.client(name, endpoint_url=endpoint, **keys) for name in ("s3", "dynamodb", "stepfunctions")}  # type: ignore[call-overload]
    # The offline Bedrock serves these where boto3's per-service endpoint variables point; else not locally.
    extra = {
        name: session.client(service, **keys)  # type: ignore[call-overload]
        for name, service in optional.items()
        if os.environ.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}")
    }
    return Clients(local["s3"], local["dynamodb"], local["stepfunctions"], **extra), local_resources(args.stage, region)


def run_feedback(args: argparse.Namespace) -> int:
    """``supportflow feedback submit FILE [--customer ID]``."""
    if not args.file.is_file():
        raise SystemExit(f"supportflow feedback submit: no file {args.file}")
    clients, resources = _connect(args)
    return submit(clients, resources, args.file, args.customer, _say, timeout=args.timeout)


def run_jobs(args: argparse.Namespace) -> int:
    """``supportflow jobs``."""
    clients, resources = _connect(args)
    rows = job_rows(clients, resources)
    if not rows:
        _say("no jobs")
        return 0
    widths = {key: max(len(key), *(len(row[key]) for row in rows)) for key in rows[0]}
    _say("  ".join(key.ljust(width) for key, width in widths.items()).rstrip())
    for row in rows:
        _say("  ".join(row[key].ljust(width) for key, width in widths.items()).rstrip())
    return 0


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the command's output
