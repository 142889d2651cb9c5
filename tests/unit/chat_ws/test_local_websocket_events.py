"""The local WebSocket API's pure parts: route selection and the authorizer's policy."""

from __future__ import annotations

import pytest

from supportflow.local.websocket.events import policy_allows, select_route

ROUTES = frozenset({"chat.send_message"})
ARN = "arn:aws:execute-api:us-east-1:000000000000:abc/dev/$connect"


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action": "chat.send_message"}', "chat.send_message"),
        ('{"action": "chat.unknown"}', "$default"),
        ('{"no_action": 1}', "$default"),
        ("not json", "$default"),
        (b"\x00binary", "$default"),
        ('["a list"]', "$default"),
    ],
)
def test_the_selection_expression_picks_a_known_route_or_default(body: str | bytes, route: str) -> None:
    # When a frame arrives, Then $request.body.action picks its route or $default
    assert select_route(body, "$request.body.action", ROUTES) == route


def _policy(*statements: dict[str, str]) -> dict[str, object]:
    return {"principalId": "acme", "policyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}


def test_an_allow_on_the_stage_wildcard_allows_connect() -> None:
    assert policy_allows(
        _policy(
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:us-east-1:000000000000:abc/dev/*",
            }
        ),
        ARN,
    )


def test_an_explicit_deny_wins_over_an_allow() -> None:
    allow = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": ARN}
    assert not policy_allows(_policy(allow, deny), ARN)


def test_an_allow_on_another_api_does_not_allow() -> None:
    other = {
        "Effect": "Allow",
        "Action": "execute-api:Invoke",
        "Resource": "arn:aws:execute-api:us-east-1:000000000000:xyz/dev/*",
    }
    assert not policy_allows(_policy(other), ARN)
