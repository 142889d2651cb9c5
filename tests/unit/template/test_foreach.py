"""The offline AWS::LanguageExtensions expander unrolls Fn::ForEach the way CloudFormation does."""

from __future__ import annotations

from typing import Any

import pytest

from supportflow.local.foreach import expand_language_extensions
from supportflow.local.intrinsics import TemplateError

TRANSFORMS = ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]


def _template(resources: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"Transform": TRANSFORMS, "Resources": resources, **sections}


def test_a_loop_renders_one_resource_per_item_with_the_identifier_substituted() -> None:
    # Given a loop over two names whose body uses the identifier in its key, a Sub and a Ref
    template = _template(
        {
            "Fn::ForEach::Topics": [
                "Name",
                ["Alpha", "Beta"],
                {
                    "${Name}Topic": {
                        "Type": "AWS::SNS::Topic",
                        "Properties": {"TopicName": {"Fn::Sub": "t-${Stage}-${Name}"}, "DisplayName": {"Ref": "Name"}},
                    }
                },
            ]
        }
    )
    # When it is expanded
    expanded = expand_language_extensions(template, {"Stage": "dev"})
    # Then each item became a resource, the loop is gone, and the SAM transform is what remains
    assert expanded["Resources"] == {
        "AlphaTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "t-${Stage}-Alpha"}, "DisplayName": "Alpha"},
        },
        "BetaTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "t-${Stage}-Beta"}, "DisplayName": "Beta"},
        },
    }
    assert expanded["Transform"] == "AWS::Serverless-2016-10-31"


def test_ampersand_keeps_only_alphanumerics_and_getatt_takes_a_sub_logical_id() -> None:
    # Given an item with punctuation used through &{} in a key, and a GetAtt whose logical id is a Sub
    template = _template(
        {
            "Fn::ForEach::Queues": [
                "Name",
                ["ops-team"],
                {
                    "&{Name}Alarm": {
                        "Type": "X",
                        "Properties": {"Arn": {"Fn::GetAtt": [{"Fn::Sub": "&{Name}Q"}, "Arn"]}},
                    }
                },
            ]
        }
    )
    # When expanded, Then the key and the logical id lost the dash and the Sub became a plain string
    resources = expand_language_extensions(template, {})["Resources"]
    assert resources == {"opsteamAlarm": {"Type": "X", "Properties": {"Arn": {"Fn::GetAtt": ["opsteamQ", "Arn"]}}}}


def test_find_in_map_with_the_identifier_is_resolved_and_literal_sub_variables_inlined() -> None:
    # Given a mapping read with the loop identifier, directly and as a Sub variable
    template = _template(
        {
            "Fn::ForEach::Rules": [
                "Level",
                ["High"],
                {
                    "${Level}Rule": {
                        "Properties": {
                            "Pattern": [{"Fn::FindInMap": ["Levels", {"Ref": "Level"}, "Name"]}],
                            "Id": {
                                "Fn::Sub": ["${N}-rule", {"N": {"Fn::FindInMap": ["Levels", {"Ref": "Level"}, "Name"]}}]
                            },
                            "Name": {
                                "Fn::Sub": ["x-${Stage}-${N}", {"N": {"Fn::FindInMap": ["Levels", "High", "Name"]}}]
                            },
                        }
                    }
                },
            ]
        },
        Mappings={"Levels": {"High": {"Name": "high"}}},
    )
    # When expanded
    properties = expand_language_extensions(template, {})["Resources"]["HighRule"]["Properties"]
    # Then the mapping value is inlined: a Sub with nothing left to substitute is just its string
    assert properties == {"Pattern": ["high"], "Id": "high-rule", "Name": {"Fn::Sub": "x-${Stage}-high"}}


def test_nested_loops_and_a_collection_from_a_list_parameter() -> None:
    # Given an outer loop over a CommaDelimitedList parameter and an inner literal loop
    template = _template(
        {
            "Fn::ForEach::Outer": [
                "Env",
                {"Ref": "Envs"},
                {"Fn::ForEach::Inner": ["Kind", ["A", "B"], {"${Env}${Kind}": {"Type": "T"}}]},
            ]
        },
        Parameters={"Envs": {"Type": "CommaDelimitedList"}},
    )
    # When expanded with two environments
    resources = expand_language_extensions(template, {"Envs": "Dev,Prod"})["Resources"]
    # Then every combination exists
    assert sorted(resources) == ["DevA", "DevB", "ProdA", "ProdB"]


def test_length_and_to_json_string_resolve_literals() -> None:
    # Given Fn::Length over a literal list and Fn::ToJsonString over a literal object
    template = _template(
        {"R": {"Properties": {"N": {"Fn::Length": [1, 2, 3]}, "J": {"Fn::ToJsonString": {"a": [1, "b"]}}}}}
    )
    # When expanded, Then both are computed
    assert expand_language_extensions(template, {})["Resources"]["R"]["Properties"] == {"N": 3, "J": '{"a":[1,"b"]}'}


def test_a_loop_that_produces_the_same_key_twice_is_rejected() -> None:
    # Given a body key that ignores the identifier
    template = _template({"Fn::ForEach::Dup": ["X", ["a", "b"], {"Same": {"Type": "T"}}]})
    # When expanded, Then it fails loudly instead of keeping one of the two
    with pytest.raises(TemplateError, match="twice"):
        expand_language_extensions(template, {})


def test_a_malformed_loop_is_rejected() -> None:
    # Given a loop with two elements instead of three
    template = _template({"Fn::ForEach::Bad": ["X", ["a"]]})
    # When expanded, Then the error names the loop
    with pytest.raises(TemplateError, match="Fn::ForEach::Bad"):
        expand_language_extensions(template, {})


def test_a_template_without_the_transform_is_returned_unchanged() -> None:
    # Given a plain SAM template (no language extensions), Then nothing is rewritten, not even Subs
    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"R": {"P": {"Fn::Sub": "plain"}}}}
    assert expand_language_extensions(template, {}) == template
