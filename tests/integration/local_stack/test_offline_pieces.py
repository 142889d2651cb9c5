"""The local stack's pure parts (no emulator): intrinsics, ordering, parameters, batch results, bridge payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from supportflow.local.bridges import target_payload
from supportflow.local.intrinsics import Resolver, Scope, TemplateError, creation_order, evaluate_conditions
from supportflow.local.resources import Bridge
from supportflow.local.template import effective_parameters, localise_paths
from workers.shared.runtime.consumer import failed_message_ids


def _resolver(**refs: Any) -> Resolver:
    scope = Scope(
        parameters={"Stage": "dev"},
        pseudo={"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"},
        refs=dict(refs),
        attrs={"Queue": {"Arn": "arn:aws:sqs:eu-west-1:123456789012:q"}},
    )
    return Resolver(scope)


def test_sub_resolves_parameters_pseudo_attributes_maps_and_literals() -> None:
    resolver = _resolver(Bus="bus-dev")
    assert resolver.resolve({"Fn::Sub": "x-${Stage}-${AWS::Region}-${Queue.Arn}-${!Literal}"}) == (
        "x-dev-eu-west-1-arn:aws:sqs:eu-west-1:123456789012:q-${Literal}"
    )
    assert resolver.resolve({"Fn::Sub": ["${a}/${Bus}", {"a": {"Ref": "Stage"}}]}) == "dev/bus-dev"


def test_join_if_novalue_and_conditions() -> None:
    scope = Scope(parameters={"Env": "prod"}, pseudo={"AWS::NoValue": ""})
    template = {
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        }
    }
    assert evaluate_conditions(template, scope) == {"IsProd": True, "NotProd": False}
    resolver = Resolver(scope)
    value = {"A": {"Fn::If": ["NotProd", "x", {"Ref": "AWS::NoValue"}]}, "B": {"Fn::Join": ["-", ["a", "b"]]}}
    assert resolver.resolve(value) == {"B": "a-b"}
    # Inside resources "Condition" is data (an IAM statement's), not a reference.
    assert resolver.resolve({"Condition": "IsProd"}) == {"Condition": "IsProd"}


def test_unknown_reference_fails_loudly() -> None:
    with pytest.raises(TemplateError, match="Nope"):
        _resolver().resolve({"Ref": "Nope"})


def test_creation_order_follows_references_and_depends_on() -> None:
    resources: dict[str, dict[str, Any]] = {
        "Rule": {"Properties": {"Bus": {"Ref": "Bus"}, "Target": {"Fn::GetAtt": ["Queue", "Arn"]}}},
        "Queue": {"Properties": {"Name": {"Fn::Sub": "${Bus}-q"}}},
        "Bus": {"Properties": {}, "DependsOn": "Table"},
        "Table": {"Properties": {}},
    }
    order = creation_order(resources)
    assert order.index("Table") < order.index("Bus") < order.index("Queue") < order.index("Rule")
    with pytest.raises(TemplateError, match="circular"):
        creation_order({"A": {"Properties": {"x": {"Ref": "B"}}}, "B": {"Properties": {"x": {"Ref": "A"}}}})


def test_parameters_take_defaults_overrides_and_are_validated() -> None:
    source = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev", "AllowedPattern": "^[a-z]+$"},
            "Count": {"Type": "Number", "Default": 3, "MinValue": 1},
        }
    }
    assert effective_parameters(source, {"Stage": "local"}) == {"Stage": "local", "Count": "3"}
    with pytest.raises(TemplateError, match="AllowedPattern"):
        effective_parameters(source, {"Stage": "Bad!"})
    with pytest.raises(TemplateError, match="MinValue"):
        effective_parameters(source, {"Count": "0"})
    with pytest.raises(TemplateError, match="unknown"):
        effective_parameters(source, {"Nope": "x"})


def test_local_code_paths_become_s3_uris(tmp_path: Any) -> None:
    (tmp_path / "flow.json").write_text(json.dumps({"StartAt": "A", "States": {}}))
    source: dict[str, Any] = {
        "Globals": {"Function": {"CodeUri": "."}},
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "workers/x"}},
            "Flow": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "flow.json"}},
        },
    }
    prepared = localise_paths(source, tmp_path)
    assert prepared["Globals"]["Function"]["CodeUri"].startswith("s3://")
    assert prepared["Resources"]["Fn"]["Properties"]["CodeUri"].startswith("s3://")
    assert prepared["Resources"]["Flow"]["Properties"]["Definition"] == {"StartAt": "A", "States": {}}
    assert source["Resources"]["Fn"]["Properties"]["CodeUri"] == "workers/x", "the source is not mutated"


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{}]}, {"a", "b"}),
        ("not a dict", set()),
    ],
)
def test_batch_item_failures_follow_lambda_rules(response: Any, failed: set[str]) -> None:
    assert failed_message_ids(response, ["a", "b"]) == failed


def test_bridge_payload_applies_input_input_path_and_transformer() -> None:
    event = json.dumps({"id": "1", "detail-type": "T", "detail": {"ticket": "T-1", "n": 2}})

    def bridge(**target: Any) -> Bridge:
        return Bridge("Rule", "t", "arn:aws:sns:r:1:t", "sns", "url", "arn", **target)

    assert target_payload(bridge(), event) == event
    assert target_payload(bridge(input='{"fixed": 1}'), event) == '{"fixed": 1}'
    assert json.loads(target_payload(bridge(input_path="$.detail"), event)) == {"ticket": "T-1", "n": 2}
    transformer = {
        "InputPathsMap": {"t": "$.detail.ticket", "n": "$.detail.n"},
        "InputTemplate": '{"m": "<t>", "n": <n>}',
    }
    assert json.loads(target_payload(bridge(input_transformer=transformer), event)) == {"m": "T-1", "n": 2}
