"""``supportflow enrich --now``: start the catalog enrichment the nightly schedule starts, and follow it.

Locally EventBridge Scheduler never fires, so this is how a run starts; on AWS (``--stack``) it starts the
same state machine by StartExecution. It prints each state the run enters and each state its batch job
reports, and ends with one line: what was enriched, by which path, tokens and cost, or why it failed.
``--seed`` first loads the sample catalog (``data/catalog/catalog.jsonl``) into the catalog table; items whose
content is unchanged keep their enrichment.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workers.enrichment.adapters import DynamoCatalog
from workers.enrichment.models import CatalogItem

SAMPLE_CATALOG = Path(__file__).resolve().parents[1] / "data" / "catalog" / "catalog.jsonl"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
EXIT_FAILED = 1
EXIT_STILL_RUNNING = 2


@dataclass(frozen=True)
class EnrichResources:
    """The catalog, the runs table and the state machine of one deployed stack."""

    catalog_table: str
    runs_table: str
    state_machine_arn: str


@dataclass(frozen=True)
class Clients:
    """The boto3 clients the command uses (injectable for tests)."""

    dynamodb: Any
    stepfunctions: Any


def local_resources(stage: str, region: str, account: str = "123456789012") -> EnrichResources:
    """The names the template gives the enrichment resources (the local deployer keeps them)."""
    stack = f"supportflow-{stage}"
    return EnrichResources(
        catalog_table=f"{stack}-catalog",
        runs_table=f"{stack}-enrichment-runs",
        state_machine_arn=f"arn:aws:states:{region}:{account}:stateMachine:{stack}-enrichment",
    )


def stack_resources(cloudformation: Any, stack_name: str) -> EnrichResources:
    """The enrichment resources a deployed CloudFormation stack names in its outputs."""
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs") or []
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    try:
        return EnrichResources(
            values["CatalogTableName"], values["EnrichmentRunsTableName"], values["EnrichmentStateMachineArn"]
        )
    except KeyError as missing:
        raise SystemExit(f"supportflow: stack {stack_name} has no {missing.args[0]} output") from None


def load_catalog(path: Path) -> list[CatalogItem]:
    """The items of a catalog JSONL file (one object per line)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [CatalogItem.model_validate_json(line) for line in lines if line.strip()]


def seed(clients: Clients, resources: EnrichResources, path: Path) -> tuple[int, int]:
    """Load ``path`` into the catalog table; (items read, items new or changed)."""
    items = load_catalog(path)
    return len(items), DynamoCatalog(resources.catalog_table, clients.dynamodb).put_items(items)


def new_run_id(now: datetime | None = None) -> str:
    """A run id (and execution name) for a run started by hand."""
    moment = now or datetime.now(UTC)
    return f"manual-{moment:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def start(clients: Clients, resources: EnrichResources, run_id: str) -> str:
    """StartExecution with the schedule's input shape; the execution ARN."""
    started = clients.stepfunctions.start_execution(
        stateMachineArn=resources.state_machine_arn,
        name=run_id,
        input=json.dumps({"run": {"run_id": run_id, "correlation_id": run_id, "tenant_id": "default"}}),
    )
    return str(started["executionArn"])


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


def _job_state(clients: Clients, resources: EnrichResources, run_id: str) -> tuple[str, str] | None:
    row = clients.dynamodb.get_item(TableName=resources.runs_table, Key={"run_id": {"S": run_id}}).get("Item")
    if not row or "job_arn" not in row:
        return None
    return row["job_arn"]["S"].rsplit("/", 1)[-1], row.get("status", {}).get("S", "Submitted")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line within ``limit`` characters."""
    return " ".join(text.split())[:limit]


def outcome(described: dict[str, Any]) -> str:
    """One line: what the run did (from its output), or why it failed."""
    status = described["status"]
    if status == "SUCCEEDED":
        out = json.loads(described.get("output") or "{}")
        summary = out.get("result") or out.get("job") or {}
        if "items_enriched" not in summary:
            return "succeeded"
        return (
            f"enriched {summary['items_enriched']} of {summary['items_selected']} items {summary['mode']}"
            f" (retried {summary['items_retried']}, failed {summary['items_failed']}),"
            f" tokens {summary['input_tokens']} in / {summary['output_tokens']} out, ${summary['cost_usd']:.4f}"
        )
    reason = one_line(f"{described.get('error') or status}: {described.get('cause') or 'no cause given'}")
    return f"{status.lower()}: {reason}"


def follow(
    clients: Clients,
    resources: EnrichResources,
    execution_arn: str,
    run_id: str,
    *,
    say: Callable[[str], None],
    timeout: float,
    interval: float = 1.0,
) -> tuple[str, str]:
    """Print each state the run enters and each job state until it ends; (status, one-line outcome)."""
    seen = 0
    job: tuple[str, str] | None = None
    deadline = time.monotonic() + timeout
    while True:
        events = list(_history(clients.stepfunctions, execution_arn))
        for event in events[seen:]:
            entered = event.get("stateEnteredEventDetails")
            if entered:
                say(f"  {entered['name']}")
        seen = len(events)
        state = _job_state(clients, resources, run_id)
        if state is not None and state != job:
            say(f"  batch job {state[0]}: {state[1]}")
            job = state
        described = clients.stepfunctions.describe_execution(executionArn=execution_arn)
        if described["status"] in TERMINAL:
            return str(described["status"]), outcome(described)
        if time.monotonic() > deadline:
            return "RUNNING", f"still running after {timeout:.0f} s (see `supportflow jobs`)"
        time.sleep(interval)


def enrich_now(
    clients: Clients,
    resources: EnrichResources,
    say: Callable[[str], None],
    *,
    seed_from: Path | None,
    now: bool,
    timeout: float,
) -> int:
    """Seed and/or start one run and follow it; the exit code (0 done, 1 failed, 2 still running)."""
    if seed_from is not None:
        read, changed = seed(clients, resources, seed_from)
        say(f"catalog: {read} items read, {changed} new or changed")
    if not now:
        return 0
    run_id = new_run_id()
    say(f"enrichment run {run_id}")
    execution_arn = start(clients, resources, run_id)
    status, line = follow(clients, resources, execution_arn, run_id, say=say, timeout=timeout)
    say(line)
    return 0 if status == "SUCCEEDED" else EXIT_STILL_RUNNING if status == "RUNNING" else EXIT_FAILED


def with_command(parser: argparse.ArgumentParser, commands: Any) -> argparse.ArgumentParser:
    """``parser`` with the ``enrich`` subcommand added to ``commands`` (its subparsers)."""
    enrich = commands.add_parser("enrich", help="catalog enrichment: start a run now (as the schedule does), follow it")
    enrich.add_argument("--now", action="store_true", help="start a run now and follow it to its end")
    enrich.add_argument(
        "--seed",
        nargs="?",
        type=Path,
        const=SAMPLE_CATALOG,
        default=None,
        metavar="FILE",
        help="first load a catalog JSONL into the catalog table (default: the sample catalog)",
    )
    enrich.add_argument("--timeout", type=float, default=600.0, help="seconds to follow the run")
    enrich.add_argument("--stage", default="local", help="a running `supportflow up --stage` (default local)")
    enrich.add_argument("--endpoint-url", default=None, help="the local stack's emulator ($AWS_ENDPOINT_URL)")
    enrich.add_argument("--stack", default=None, help="a deployed CloudFormation stack (normal credential chain)")
    enrich.add_argument("--region", default=None)
    return parser


def _connect(args: argparse.Namespace) -> tuple[Clients, EnrichResources]:
    import boto3  # noqa: PLC0415 - keeps the other commands light

    region = args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    session = boto3.session.Session(region_name=region)
    if args.stack:
        clients = Clients(session.client("dynamodb"), session.client("stepfunctions"))
        return clients, stack_resources(session.client("cloudformation"), args.stack)
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise SystemExit("supportflow: give --stack NAME (AWS) or --endpoint-url / $AWS_ENDPOINT_URL (local)")
    keys = {
        "aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }
    clients = Clients(
        session.client("dynamodb", endpoint_url=endpoint, **keys),  # type: ignore[call-overload]
        session.client("stepfunctions", endpoint_url=endpoint, **keys),  # type: ignore[call-overload]
    )
    return clients, local_resources(args.stage, region)


def run_enrich(args: argparse.Namespace) -> int:
    """``supportflow enrich --now [--seed [FILE]]``."""
    if not args.now and args.seed is None:
        raise SystemExit("supportflow enrich: give --now (start a run) and/or --seed (load a catalog)")
    if args.seed is not None and not args.seed.is_file():
        raise SystemExit(f"supportflow enrich: no catalog file {args.seed}")
    clients, resources = _connect(args)
    return enrich_now(clients, resources, _say, seed_from=args.seed, now=args.now, timeout=args.timeout)


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the command's output
