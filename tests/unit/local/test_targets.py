"""Where the stack deploys: target resolution as localstack-client resolves LocalStack, and a clear error."""

from __future__ import annotations

import pytest

from supportflow.local.resources import ALL_BRIDGE_KINDS
from supportflow.local.targets import TargetError, resolve_target

_TARGET_VARIABLES = ("SUPPORTFLOW_TARGET", "AWS_ENDPOINT_URL", "LOCALSTACK_HOST", "USE_SSL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No target variable leaks in from the developer's shell."""
    for name in _TARGET_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_default_target_is_the_embedded_moto_with_every_bridge() -> None:
    # Given no target named and no endpoint, When resolved, Then moto boots in process with all bridges
    target = resolve_target()
    assert target.name == "embedded"
    assert target.endpoint_url is None
    assert target.bridge_kinds == ALL_BRIDGE_KINDS
    assert target.unknown_targets_fail


def test_localstack_defaults_to_the_edge_port_and_bridges_only_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SUPPORTFLOW_TARGET=localstack and nothing else
    monkeypatch.setenv("SUPPORTFLOW_TARGET", "localstack")
    # When resolved
    target = resolve_target()
    # Then LocalStack's edge port on localhost, SNS and Step Functions delivered natively, Lambda bridged
    assert target.name == "localstack"
    assert target.endpoint_url == "http://localhost:4566"
    assert target.bridge_kinds == frozenset({"lambda"})
    assert not target.unknown_targets_fail


def test_localstack_host_and_ssl_are_honoured_as_localstack_client_does(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given LOCALSTACK_HOST and USE_SSL, as localstack-client reads them
    monkeypatch.setenv("LOCALSTACK_HOST", "ls.internal:4567")
    monkeypatch.setenv("USE_SSL", "1")
    # Then the localstack target is found there
    assert resolve_target("localstack").endpoint_url == "https://ls.internal:4567"


def test_aws_endpoint_url_wins_for_localstack_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given AWS_ENDPOINT_URL set (localstack-client's first choice) and a LOCALSTACK_HOST
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599/")
    monkeypatch.setenv("LOCALSTACK_HOST", "elsewhere:4566")
    # Then the localstack target uses AWS_ENDPOINT_URL
    assert resolve_target("localstack").endpoint_url == "http://127.0.0.1:4599"


def test_an_endpoint_without_a_name_is_the_endpoint_target(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given only AWS_ENDPOINT_URL, Then the stack deploys there (and probes at boot whether it is moto)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    target = resolve_target()
    assert (target.name, target.endpoint_url) == ("endpoint", "http://127.0.0.1:5000")


def test_a_named_target_beats_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SUPPORTFLOW_TARGET=localstack, When the caller names embedded, Then embedded it is
    monkeypatch.setenv("SUPPORTFLOW_TARGET", "localstack")
    assert resolve_target("embedded").name == "embedded"


@pytest.mark.parametrize(("name", "reason"), [("endpoint", "needs an endpoint URL"), ("aws", "unknown target")])
def test_unresolvable_targets_are_refused_with_the_reason(name: str, reason: str) -> None:
    # Given an endpoint target with no endpoint, or a name that is no target, Then a TargetError says why
    with pytest.raises(TargetError, match=reason):
        resolve_target(name)
