"""``supportflow tickets submit|show`` against the locally served public API."""

from __future__ import annotations

import io
import json

import pytest

from supportflow.cli import _parser
from supportflow.tickets_cli import run_tickets
from tests.integration.api.conftest import PublicApi

pytestmark = pytest.mark.integration


def test_submit_then_show_a_ticket_from_the_terminal(public_api: PublicApi) -> None:
    # Given the API's URL and acme's key
    common = ["--url", public_api.url, "--api-key", public_api.keys["acme"]]
    # When a ticket is submitted
    out = io.StringIO()
    submit = _parser().parse_args(
        ["tickets", "submit", "--subject", "Login fails", "--description", "Cannot sign in since today.",
         "--customer", "c-7", "--priority", "high", *common]
    )  # fmt: skip
    assert run_tickets(submit, out) == 0
    accepted = json.loads(out.getvalue())
    # Then it printed the id and a 4-hour estimate; showing it before the pipeline recorded it is a 404 (exit 1)
    assert accepted["estimated_response_minutes"] == 240
    shown = io.StringIO()
    show = _parser().parse_args(["tickets", "show", accepted["ticket_id"], *common])
    assert run_tickets(show, shown) == 1
    assert json.loads(shown.getvalue())["code"] == "not_found"
