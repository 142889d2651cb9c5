"""The `supportflow` command line: the local stack (up, run), operations (dlq, approve, jobs…) and clients."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from supportflow import chat_cli, enrich_cli, escalations, feedback_cli, tickets_cli
from workers.shared.runtime.logs import configure_json_logging

if TYPE_CHECKING:
    from supportflow.local.stack import EmulatedStack

DEFAULT_BEDROCK_PORT = 8766


def main(argv: Sequence[str] | None = None) -> int:
    """Run the supportflow command line."""
    parser = _parser()
    args = parser.parse_args(argv)
    configure_json_logging(args.log_level)
    if args.command == "feedback":
        return feedback_cli.run_feedback(args)
    if args.command == "jobs":
        return feedback_cli.run_jobs(args)
    if args.command == "chat":
        return chat_cli.run_chat(args)
    if args.command == "enrich":
        return enrich_cli.run_enrich(args)
    if args.command == "tickets":
        return tickets_cli.run_tickets(args)
    command = {
        "up": _up,
        "run": _run,
        "dlq": _dlq,
        "approve": _approve,
        "escalations": _escalations,
        "bedrock": _bedrock,
    }[args.command]
    return command(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportflow", description=__doc__)
    parser.add_argument("--log-level", default="WARNING", help="local stack log level (stderr, JSON lines)")
    commands = parser.add_subparsers(dest="command", required=True)

    def stack_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--template", type=Path, default=None, help="default: the repo's template.yaml")
        command.add_argument("--stage", default="local", help="Stage parameter (part of every name)")
        command.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="override a template parameter (repeatable)",
        )
        command.add_argument(
            "--target",
            choices=["embedded", "localstack", "endpoint"],
            default=None,
            help="where to deploy: embedded moto (default), a running LocalStack (found as localstack-client"
            " finds it: $LOCALSTACK_HOST, default localhost:4566), or --endpoint-url / $AWS_ENDPOINT_URL;"
            " default: $SUPPORTFLOW_TARGET, else endpoint when AWS_ENDPOINT_URL is set, else embedded",
        )
        command.add_argument("--endpoint-url", default=None, help="the endpoint of --target localstack / endpoint")
        command.add_argument(
            "--retry-delay",
            type=int,
            default=1,
            help="local only: seconds before a failed message is retried (default 1)",
        )

    up = commands.add_parser("up", help="boot the local stack and serve until Ctrl-C / SIGTERM")
    stack_options(up)
    up.add_argument("--no-workers", action="store_true", help="deploy only; run no consumer")
    up.add_argument("--log-dir", type=Path, default=None, help="worker logs go here (default: this terminal)")

    run = commands.add_parser("run", help="boot, submit realistic tickets, wait for every outcome, report")
    stack_options(run)
    _run_options(run)

    dlq = commands.add_parser("dlq", help="the stack's dead-letter queues: list, show, redrive")
    dlq.add_argument("action", choices=["list", "show", "redrive"])
    dlq.add_argument("queue", nargs="?", help="show/redrive: the DLQ (logical id, name, URL or ARN)")
    dlq.add_argument("--stage", default="local", help="a running `supportflow up --stage` (default local)")
    dlq.add_argument("--endpoint-url", default=None, help="the local stack's emulator (default $AWS_ENDPOINT_URL)")
    dlq.add_argument("--stack", default=None, help="a deployed CloudFormation stack (normal credential chain)")
    dlq.add_argument("--region", default=None)
    dlq.add_argument("--logs", type=Path, default=None, help="show: worker log dir, for each failure's reason")
    dlq.add_argument("--body", action="store_true", help="show: print message bodies (may hold PII)")
    dlq.add_argument("--dry-run", action="store_true", help="redrive: say what would move, move nothing")
    dlq.add_argument("--to", default=None, help="redrive: destination queue when the DLQ has several sources")

    def deployed_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--stage", default="local", help="a running `supportflow up --stage` (default local)")
        command.add_argument("--endpoint-url", default=None, help="the local stack's emulator ($AWS_ENDPOINT_URL)")
        command.add_argument("--stack", default=None, help="a deployed CloudFormation stack (normal credential chain)")
        command.add_argument("--region", default=None)

    approve = commands.add_parser(
        "approve",
        help="decide an escalated ticket: exit 0 sent, 3 already decided, 4 nothing waits, 5 too late (timed out)",
    )
    approve.add_argument("ticket", help="the ticket id")
    approve.add_argument("--decision", choices=["approve", "reject"], required=True)
    approve.add_argument("--edit", type=Path, default=None, help="approve: a file holding the edited reply")
    approve.add_argument("--by", default=os.environ.get("USER") or "agent", help="who decides (default $USER)")
    approve.add_argument("--comment", default=None)
    deployed_options(approve)

    waiting = commands.add_parser("escalations", help="what waits for a human decision, its stage, since when")
    deployed_options(waiting)

    bedrock = commands.add_parser("bedrock", help="serve only the offline Bedrock, in the foreground")
    bedrock.add_argument("--host", default="127.0.0.1")
    bedrock.add_argument("--port", type=int, default=DEFAULT_BEDROCK_PORT)
    parser = chat_cli.with_command(feedback_cli.with_commands(parser, commands), commands)
    enrich_cli.with_command(parser, commands)
    return tickets_cli.with_command(parser, commands)


def _run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--tickets", type=int, default=36, help="how many tickets (default 36)")
    run.add_argument("--seed", type=int, default=7, help="the generator's seed (same seed, same tickets)")
    run.add_argument("--chaos", action="store_true", help="inject faults: throttles, a killed worker, poison...")
    run.add_argument("--report", type=Path, default=None, help="also write the report as JSON to this file")
    run.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for every outcome (default 120, plus 2 per ticket beyond 36: a bigger run gets longer)",
    )
    run.add_argument("--log-dir", type=Path, default=None, help="worker logs (default: a temporary directory)")
    run.add_argument("--feedback", type=int, default=4, help="feedback files to submit and await (default 4)")
    run.add_argument("--no-enrichment", action="store_true", help="skip the one catalog enrichment run")
    run.add_argument(
        "--approve",
        choices=["auto", "reject", "timeout"],
        default="auto",
        help="decide escalations for the humans: auto approves (some with edits), reject, or timeout lets the"
        " short local timeouts run out (supervisor, then timed_out)",
    )


def run_timeout(tickets: int) -> float:
    """How long a run waits for every outcome by default: 120 s for the default 36 tickets, 2 s more per ticket."""
    return 120.0 + 2.0 * max(0, tickets - 36)


def _parameters(pairs: list[str]) -> dict[str, str]:
    parameters = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--param expects NAME=VALUE, got {pair!r}")
        parameters[name] = value
    return parameters


def _start_stack(args: argparse.Namespace, *, workers: bool, log_dir: Path | None) -> EmulatedStack:
    from supportflow.local.stack import DEFAULT_TEMPLATE, EmulatedStack  # noqa: PLC0415 - keeps `bedrock` light
    from supportflow.local.targets import TargetError  # noqa: PLC0415

    try:
        return EmulatedStack.start(
            template=args.template or DEFAULT_TEMPLATE,
            target=args.target,
            endpoint_url=args.endpoint_url,
            stage=args.stage,
            parameters=_parameters(args.param),
            workers=workers,
            retry_delay_seconds=args.retry_delay,
            log_dir=log_dir,
        )
    except TargetError as error:
        raise SystemExit(f"supportflow: {error}") from error


def _say_worker_events(stack: EmulatedStack, stream: TextIO = sys.stdout) -> None:
    """Print what the supervisor does, so a dead worker is never silently 'served'."""
    from supportflow.local.supervisor import WorkerEvent  # noqa: PLC0415

    def say(event: WorkerEvent) -> None:
        if event.kind == "died":
            print(
                f"worker {event.key} died (exit code {event.exit_code}); restarting in {event.delay_seconds:.1f} s",
                file=stream,
                flush=True,
            )
        elif event.kind == "restarted":
            print(f"worker {event.key} restarted (restart {event.restarts})", file=stream, flush=True)
        else:
            msg = f"worker {event.key} keeps dying (exit code {event.exit_code}); NOT restarted"
            print(msg, file=stream, flush=True)

    stack.supervisor.listeners.append(say)


def _wait_for_signal() -> None:
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        print(f"\n{signal.Signals(signum).name}: shutting down...", flush=True)
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stop.wait(1.0):
        pass


def _up(args: argparse.Namespace) -> int:
    print("booting the local stack...", flush=True)
    with _start_stack(args, workers=not args.no_workers, log_dir=args.log_dir) as stack:
        print(describe(stack), flush=True)
        _say_worker_events(stack)
        print("serving; Ctrl-C to stop (a worker that dies is restarted, and said so here)", flush=True)
        _wait_for_signal()
    print("stopped.", flush=True)
    return 0


def _run(args: argparse.Namespace) -> int:
    from supportflow.local.run import Progress, generate_tickets, render, run_tickets, summarise  # noqa: PLC0415
    from supportflow.local.run.approver import escalation_parameters  # noqa: PLC0415
    from supportflow.local.run.enrichment import DEFAULT_ITEMS as ENRICHMENT_ITEMS  # noqa: PLC0415

    # Short approval timeouts for the run; a --param given on the command line still wins.
    args.param = [f"{k}={v}" for k, v in escalation_parameters(args.approve).items()] + list(args.param)
    tickets = generate_tickets(args.tickets, seed=args.seed)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="supportflow-run-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"booting the local stack (worker logs: {log_dir})...", file=sys.stderr, flush=True)
    with _start_stack(args, workers=True, log_dir=log_dir) as stack:
        print(f"stack {stack.stack_name} up in {stack.boot_seconds:.1f} s", file=sys.stderr, flush=True)
        _say_worker_events(stack, stream=sys.stderr)

        def show(progress: Progress) -> None:
            stages = " ".join(f"{name} {count}" for name, count in progress.per_stage.items())
            line = (
                f"submitted {progress.submitted}  completed {progress.completed}  rejected {progress.rejected}"
                f"  dlq {progress.dlq}  | {stages}"
            )
            print(f"\r{line:<120}", end="", file=sys.stderr, flush=True)

        result = run_tickets(
            stack,
            tickets,
            timeout=args.timeout if args.timeout is not None else run_timeout(len(tickets)),
            chaos=args.chaos,
            seed=args.seed,
            approve=args.approve,
            progress=show,
            feedback=args.feedback,
            enrichment_items=0 if args.no_enrichment else ENRICHMENT_ITEMS,
        )
        print(file=sys.stderr, flush=True)
    summary = summarise(result)
    summary["boot_seconds"] = round(stack.boot_seconds, 2)
    print(render(summary, result))
    if args.report is not None:
        args.report.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if summary["lost"] or summary["duplicates"] or summary["unexpected_outcomes"] else 0


def _dlq(args: argparse.Namespace) -> int:
    import boto3  # noqa: PLC0415 - keeps the other commands light

    from supportflow import dlq  # noqa: PLC0415

    session = boto3.session.Session(region_name=args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    if args.stack:
        sqs = session.client("sqs")
        queues = dlq.stack_queues(session.client("cloudformation"), sqs, args.stack)
    else:
        endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            raise SystemExit("supportflow dlq: give --stack NAME (AWS) or --endpoint-url / $AWS_ENDPOINT_URL (local)")
        sqs = session.client(
            "sqs",
            endpoint_url=endpoint,
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        )
        queues = dlq.local_queues(sqs, args.stage)
    dlqs = dlq.dead_letter_queues(queues)
    try:
        if args.action == "list":
            print(dlq.list_text(sqs, dlqs))
            return 0
        if not args.queue:
            raise SystemExit(f"supportflow dlq {args.action}: name the queue")
        chosen = dlq.find(dlqs, args.queue)
        if args.action == "show":
            print(dlq.show_text(dlq.peek(sqs, chosen.queue, dlq.failure_reasons(args.logs)), body=args.body))
            return 0
        destination = next((q for q in queues if args.to and dlq.matches(q, args.to)), None)
        if args.to and destination is None:
            raise SystemExit(f"supportflow dlq redrive: no queue {args.to!r}")
        result = dlq.redrive(sqs, chosen, destination=destination, dry_run=args.dry_run)
    except dlq.DlqError as error:
        raise SystemExit(f"supportflow dlq: {error}") from error
    if result.task_handle:
        print(f"StartMessageMoveTask started ({result.task_handle})")
    else:
        verb = "would move" if args.dry_run else "moved"
        where = ", ".join(f"{n} to {name}" for name, n in result.destinations.items()) or "nothing"
        print(f"{verb} {where} ({result.method})")
    return 0


def _escalations_of(args: argparse.Namespace) -> escalations.Escalations:
    import boto3  # noqa: PLC0415 - keeps the other commands light

    session = boto3.session.Session(region_name=args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    if args.stack:
        outputs = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0].get("Outputs")
        table = next((o["OutputValue"] for o in outputs or [] if o["OutputKey"] == "ApprovalsTableName"), None)
        if table is None:
            raise SystemExit(f"supportflow: stack {args.stack} has no ApprovalsTableName output")
        return escalations.Escalations(table, session.client("dynamodb"), session.client("stepfunctions"))
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise SystemExit("supportflow: give --stack NAME (AWS) or --endpoint-url / $AWS_ENDPOINT_URL (local)")
    key_id = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")
    return escalations.Escalations(
        f"supportflow-{args.stage}-approvals",
        session.client("dynamodb", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret),
        session.client("stepfunctions", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret),
    )


def _approve(args: argparse.Namespace) -> int:
    if args.edit is not None and args.decision != "approve":
        raise SystemExit("supportflow approve: --edit goes with --decision approve")
    edited = args.edit.read_text(encoding="utf-8") if args.edit is not None else None
    sent = _escalations_of(args).decide(
        args.ticket, args.decision, edited_reply=edited, decided_by=args.by, comment=args.comment
    )
    print(
        {
            escalations.Sent.SENT: f"{args.ticket}: {args.decision} sent",
            escalations.Sent.ALREADY_DECIDED: f"{args.ticket}: already decided; nothing sent",
            escalations.Sent.NOT_WAITING: f"{args.ticket}: no escalation waits for a decision",
            escalations.Sent.TOO_LATE: f"{args.ticket}: too late, the request timed out; nothing sent",
        }[sent]
    )
    return sent.value


def _escalations(args: argparse.Namespace) -> int:
    print(escalations.waiting_text(_escalations_of(args).waiting()))
    return 0


def _bedrock(args: argparse.Namespace) -> int:
    try:
        server = importlib.import_module("supportflow.bedrock_offline.server")
    except ImportError as error:
        print(f"offline Bedrock is not available: {error}", file=sys.stderr)
        return 1

    def ready(url: str) -> None:
        print(f"offline Bedrock on {url}\n  export AWS_ENDPOINT_URL_BEDROCK_RUNTIME={url}", flush=True)

    server.serve_forever(args.host, args.port, ready=ready)
    return 0


def describe(stack: EmulatedStack) -> str:
    """The endpoints and resources of a running stack, for humans."""
    lines = [
        f"stack {stack.stack_name} up in {stack.boot_seconds:.2f} s",
        f"  emulator        {stack.emulator} at {stack.endpoint_url}   (export AWS_ENDPOINT_URL={stack.endpoint_url})",
        f"  bedrock         {stack.bedrock_url or 'not available'}",
    ]
    for logical_id, api in stack.apis.items():
        lines.append(f"  rest api        {api.url}   ({logical_id}; send x-api-key)")
    for logical_id, websocket in stack.websockets.items():
        lines.append(f"  websocket api   {websocket.url}   ({logical_id}; send x-api-key; supportflow chat --url)")
    by_type: dict[str, list[str]] = {}
    for info in stack.resources.values():
        if info.status in ("created", "bridged") and info.type in _SHOWN_TYPES:
            by_type.setdefault(_SHOWN_TYPES[info.type], []).append(f"{info.logical_id}: {info.physical_id}")
    for label, entries in by_type.items():
        lines.append(f"  {label}")
        lines.extend(f"    {entry}" for entry in entries)
    if stack.bridges:
        lines.append(
            "  bridged EventBridge targets (the emulator cannot deliver to them; an SQS queue + forwarder does)"
        )
        lines.extend(
            f"    {b.rule_logical_id}/{b.target_id} -> {b.target_arn} via {b.queue_url}" for b in stack.bridges
        )
    not_emulated = [i for i in stack.resources.values() if i.status in ("not-emulated", "condition-false")]
    if not_emulated:
        lines.append("  not emulated")
        lines.extend(f"    {i.logical_id} ({i.type}): {i.note}" for i in not_emulated)
    lines.append("  workers (supervised: restarted with back-off if one dies)")
    lines.extend(
        f"    {key}: {w.config.handler} <- {w.queue_url.rsplit('/', 1)[-1]}" for key, w in stack.workers.items()
    )
    lines.extend(f"    {key}: NOT STARTED ({reason})" for key, reason in stack.skipped_workers.items())
    if stack.outputs:
        lines.append("  outputs")
        lines.extend(f"    {name} = {value}" for name, value in stack.outputs.items())
    return "\n".join(lines)


_SHOWN_TYPES = {
    "AWS::Events::EventBus": "event buses",
    "AWS::SQS::Queue": "queues",
    "AWS::SNS::Topic": "topics",
    "AWS::DynamoDB::Table": "tables",
    "AWS::StepFunctions::StateMachine": "state machines",
    "AWS::S3::Bucket": "buckets",
}


def _table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    header = "  ".join(c.ljust(widths[c]) for c in columns)
    lines = ["", header, "  ".join("-" * widths[c] for c in columns)]
    lines.extend("  ".join(r.get(c, "").ljust(widths[c]) for c in columns) for r in rows)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
