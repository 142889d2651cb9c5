"""Expand the AWS::LanguageExtensions transform offline, as CloudFormation does before the SAM transform.

aws-sam-translator does not know ``Fn::ForEach`` (SAM CLI and cfn-lint expand it themselves), so the local
stack unrolls it here: ``Fn::ForEach::Name: [Identifier, Collection, {OutputKey: Body}]`` with ``${Identifier}``
and ``&{Identifier}`` (alphanumerics only) replaced in output keys and ``Fn::Sub`` strings, ``Ref: Identifier``
replaced by the value, and ``Fn::FindInMap`` / ``Fn::Length`` / ``Fn::ToJsonString`` resolved where their
arguments are literal.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from supportflow.local.intrinsics import TemplateError

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
_FOR_EACH_KEY = re.compile(r"^Fn::ForEach::[A-Za-z0-9]+$")
# ${Name} and ${Name.Attribute}, but not the ${!Literal} escape.
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")
_SECTIONS = ("Conditions", "Resources", "Outputs")


def uses_language_extensions(source: Mapping[str, Any]) -> bool:
    """Whether the template declares the AWS::LanguageExtensions transform."""
    return LANGUAGE_EXTENSIONS in _transforms(source)


def expand_language_extensions(source: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """Return ``source`` with every Fn::ForEach unrolled and AWS::LanguageExtensions dropped from Transform."""
    expanded: dict[str, Any] = copy.deepcopy(dict(source))
    if not uses_language_extensions(source):
        return expanded
    expander = _Expander(expanded.get("Mappings") or {}, expanded.get("Parameters") or {}, parameters)
    for section in _SECTIONS:
        if isinstance(expanded.get(section), dict):
            expanded[section] = expander.walk(expanded[section], {})
    remaining = [name for name in _transforms(source) if name != LANGUAGE_EXTENSIONS]
    if not remaining:
        expanded.pop("Transform", None)
    else:
        expanded["Transform"] = remaining[0] if len(remaining) == 1 else remaining
    return expanded


def _transforms(source: Mapping[str, Any]) -> list[str]:
    transform = source.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return [name for name in names if isinstance(name, str)]


class _Expander:
    """One template's expansion: its mappings and parameter values, walked with the loop bindings in scope."""

    def __init__(self, mappings: Mapping[str, Any], declared: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self._mappings = mappings
        self._declared = declared
        self._parameters = parameters

    def walk(self, node: Any, bindings: Mapping[str, str]) -> Any:
        """Expand loops and substitute ``bindings`` throughout ``node``."""
        if isinstance(node, list):
            return [self.walk(item, bindings) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if not _FOR_EACH_KEY.match(key) and (key == "Ref" or key.startswith("Fn::")):
                return self._function(key, value, bindings)
        result: dict[str, Any] = {}
        for key, value in node.items():
            if _FOR_EACH_KEY.match(key):
                for output_key, body in self._unroll(key, value, bindings).items():
                    _add_unique(result, output_key, body)
            else:
                _add_unique(result, _substitute(key, bindings), self.walk(value, bindings))
        return result

    def _unroll(self, key: str, loop: Any, bindings: Mapping[str, str]) -> dict[str, Any]:
        if not (isinstance(loop, list) and len(loop) == 3 and isinstance(loop[0], str) and isinstance(loop[2], dict)):
            msg = f"{key}: expected [Identifier, Collection, {{OutputKey: Body}}]"
            raise TemplateError(msg)
        identifier, collection, body = loop
        if identifier in bindings or identifier in self._declared:
            msg = f"{key}: identifier {identifier!r} is already a parameter or an outer loop's identifier"
            raise TemplateError(msg)
        unrolled: dict[str, Any] = {}
        for item in self._collection(key, collection, bindings):
            for output_key, output in self.walk(body, {**bindings, identifier: item}).items():
                _add_unique(unrolled, output_key, output)
        return unrolled

    def _collection(self, key: str, collection: Any, bindings: Mapping[str, str]) -> list[str]:
        resolved = self.walk(collection, bindings)
        if isinstance(resolved, dict) and set(resolved) == {"Ref"} and resolved["Ref"] in self._parameters:
            resolved = [item for item in self._parameters[resolved["Ref"]].split(",") if item]
        if not isinstance(resolved, list) or not all(isinstance(item, str) for item in resolved):
            msg = f"{key}: the collection must be a list of strings or a Ref to a list parameter"
            raise TemplateError(msg)
        return resolved

    def _function(self, name: str, argument: Any, bindings: Mapping[str, str]) -> Any:
        if name == "Ref":
            target = self.walk(argument, bindings)
            return bindings[target] if isinstance(target, str) and target in bindings else {"Ref": target}
        if name == "Fn::Sub":
            return _sub(self.walk(_substitute_sub(argument, bindings), bindings))
        argument = self.walk(argument, bindings)
        if name == "Fn::FindInMap":
            return self._find_in_map(argument)
        if name == "Fn::Length" and isinstance(argument, list):
            return len(argument)
        if name == "Fn::ToJsonString" and not _has_function(argument):
            return json.dumps(argument, separators=(",", ":"))
        return {name: argument}

    def _find_in_map(self, argument: Any) -> Any:
        keys = argument[:3] if isinstance(argument, list) else []
        if len(keys) != 3 or not all(isinstance(item, str) for item in keys):
            return {"Fn::FindInMap": argument}
        level: Any = self._mappings
        for item in keys:
            if not isinstance(level, dict) or item not in level:
                default = argument[3] if len(argument) == 4 and isinstance(argument[3], dict) else None
                if default is not None and "DefaultValue" in default:
                    return copy.deepcopy(default["DefaultValue"])
                msg = f"Fn::FindInMap {keys}: no such entry in Mappings"
                raise TemplateError(msg)
            level = level[item]
        return copy.deepcopy(level)


def _substitute(text: str, bindings: Mapping[str, str]) -> str:
    for identifier, value in bindings.items():
        text = text.replace("${" + identifier + "}", value)
        text = text.replace("&{" + identifier + "}", re.sub(r"[^0-9A-Za-z]", "", value))
    return text


def _substitute_sub(argument: Any, bindings: Mapping[str, str]) -> Any:
    if isinstance(argument, str):
        return _substitute(argument, bindings)
    if isinstance(argument, list) and argument and isinstance(argument[0], str):
        return [_substitute(argument[0], bindings), *argument[1:]]
    return argument


def _sub(argument: Any) -> Any:
    """Inline literal string variables of a Fn::Sub; a Sub left with no variable is just its string."""
    variables: dict[str, Any] = {}
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
        text, variables = argument
    else:
        text = argument
    if not isinstance(text, str):
        return {"Fn::Sub": argument}
    literal = {name: value for name, value in variables.items() if isinstance(value, str)}
    text = _SUB_VARIABLE.sub(lambda match: literal.get(match.group(1), match.group(0)), text)
    rest = {name: value for name, value in variables.items() if name not in literal}
    if rest:
        return {"Fn::Sub": [text, rest]}
    return {"Fn::Sub": text} if _SUB_VARIABLE.search(text) else text.replace("${!", "${")


def _has_function(node: Any) -> bool:
    if isinstance(node, list):
        return any(_has_function(item) for item in node)
    if isinstance(node, dict):
        return any(key == "Ref" or key.startswith("Fn::") or _has_function(value) for key, value in node.items())
    return False


def _add_unique(target: dict[str, Any], key: str, value: Any) -> None:
    if key in target:
        msg = f"Fn::ForEach produced {key!r} twice"
        raise TemplateError(msg)
    target[key] = value
