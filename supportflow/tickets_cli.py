"""``supportflow tickets submit|show|tenant``: the REST side of the public API from a terminal.

``submit`` and ``show`` talk to the API (``--url`` / $SUPPORTFLOW_API_URL, ``--api-key`` /
$SUPPORTFLOW_API_KEY); ``tenant`` registers a tenant of a local stack (``supportflow up``) with a new
API key in the usage plan, and prints the key.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from typing import Any, TextIO

URL_ENV = "SUPPORTFLOW_API_URL"
API_KEY_ENV = "SUPPORTFLOW_API_KEY"
_FINAL = ("analyzed", "drafted", "escalated", "escalation_approved", "escalation_rejected", "escalation_timed_out")


def with_command(parser: argparse.ArgumentParser, commands: Any) -> argparse.ArgumentParser:
    """Register ``tickets`` on the CLI's subcommands; the parser, for chaining."""
    tickets = commands.add_parser("tickets", help="submit a ticket to the public API, or show one")
    actions = tickets.add_subparsers(dest="tickets_action", required=True)

    def api_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--url", default=os.environ.get(URL_ENV), help=f"the API's stage URL (${URL_ENV})")
        command.add_argument("--api-key", default=os.environ.get(API_KEY_ENV), help=f"x-api-key (${API_KEY_ENV})")
        command.add_argument("--token", default=None, help="also send this bearer token")

    submit = actions.add_parser("submit", help="POST /tickets; prints the id, status URL and estimate")
    submit.add_argument("--subject", required=True)
    submit.add_argument("--description", required=True)
    submit.add_argument("--customer", required=True, help="the customer id")
    submit.add_argument("--tier", default="standard", choices=["free", "standard", "premium", "enterprise"])
    submit.add_argument("--priority", default="normal", choices=["critical", "high", "normal", "low"])
    submit.add_argument("--category", default=None)
    api_options(submit)

    show = actions.add_parser("show", help="GET /tickets/{id}; --wait polls until the pipeline analysed it")
    show.add_argument("ticket", help="the ticket id")
    show.add_argument("--wait", type=float, default=0.0, help="seconds to wait for an analysed status")
    api_options(show)

    tenant = actions.add_parser("tenant", help="local stack: register a tenant with a new API key, print the key")
    tenant.add_argument("tenant_id")
    tenant.add_argument("--daily", type=int, default=200_000, help="daily token limit")
    tenant.add_argument("--monthly", type=int, default=5_000_000, help="monthly token limit")
    tenant.add_argument("--stage", default="local", help="the `supportflow up --stage` (default local)")
    tenant.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="the emulator")
    return parser


def run_tickets(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    """Run one ``tickets`` action; 0 on success, 1 when the API refused, 2 on usage errors."""
    out = stdout or sys.stdout
    if args.tickets_action == "tenant":
        return _register_tenant(args, out)
    if not args.url or not (args.api_key or args.token):
        sys.stderr.write(f"supportflow tickets: give --url / ${URL_ENV} and --api-key / ${API_KEY_ENV}\n")
        return 2
    if args.tickets_action == "submit":
        body = {
            "subject": args.subject,
            "description": args.description,
            "priority": args.priority,
            "customer": {"customer_id": args.customer, "tier": args.tier},
            **({"category": args.category} if args.category else {}),
        }
        status, answer = call_api(args, "POST", "/tickets", body)
    else:
        deadline = time.monotonic() + args.wait
        while True:
            status, answer = call_api(args, "GET", f"/tickets/{args.ticket}")
            done = status == 200 and answer.get("status") in _FINAL
            if done or time.monotonic() >= deadline:
                break
            time.sleep(1.0)
    out.write(json.dumps(answer, indent=2) + "\n")
    return 0 if status < 400 else 1


def call_api(args: argparse.Namespace, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    """One request; the status and the JSON answer (API errors included)."""
    headers = {"Content-Type": "application/json"}
    if args.api_key:
        headers["x-api-key"] = args.api_key
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{args.url.rstrip('/')}{path}", data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the URL the user gave)
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _register_tenant(args: argparse.Namespace, out: TextIO) -> int:
    import boto3  # noqa: PLC0415

    from workers.authorizer.tenants import DynamoDBTenantDirectory, Tenant  # noqa: PLC0415

    if not args.endpoint_url:
        sys.stderr.write("supportflow tickets tenant: give --endpoint-url or set $AWS_ENDPOINT_URL (supportflow up)\n")
        return 2
    apigateway = boto3.client("apigateway", endpoint_url=args.endpoint_url)
    plan_name = f"supportflow-{args.stage}-public-api"
    plan = next((p for p in apigateway.get_usage_plans(limit=500)["items"] if p["name"] == plan_name), None)
    if plan is None:
        sys.stderr.write(f"no usage plan {plan_name}: is `supportflow up --stage {args.stage}` running?\n")
        return 1
    value = f"{args.tenant_id}-{secrets.token_urlsafe(24)}"
    key = apigateway.create_api_key(name=f"{args.tenant_id}-{value[-6:]}", enabled=True, value=value)
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    tenant = Tenant(tenant_id=args.tenant_id, daily_token_limit=args.daily, monthly_token_limit=args.monthly)
    directory = DynamoDBTenantDirectory(
        f"supportflow-{args.stage}-tenants", client=boto3.client("dynamodb", endpoint_url=args.endpoint_url)
    )
    directory.register(tenant, value)
    out.write(f"export {API_KEY_ENV}={value}\n")
    return 0
