"""CloudFormation intrinsic functions, conditions and resource ordering, resolved offline."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::Region",
        "AWS::AccountId",
        "AWS::StackName",
        "AWS::StackId",
        "AWS::Partition",
        "AWS::URLSuffix",
        "AWS::NoValue",
        "AWS::NotificationARNs",
    }
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """The template uses something this offline resolver cannot evaluate, or is inconsistent."""


class _NoValue:
    """``AWS::NoValue``: the property (or list item) it stands in is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class _PendingConditionError(Exception):
    """A condition refers to another that is not evaluated yet."""


@dataclass
class Scope:
    """What intrinsics resolve against: parameters, pseudo parameters, conditions and created resources."""

    parameters: dict[str, Any]
    pseudo: dict[str, str]
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)


class Resolver:
    """Evaluate Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If and friends over a :class:`Scope`."""

    def __init__(self, scope: Scope, *, conditions_context: bool = False) -> None:
        self.scope = scope
        # Only inside ``Conditions`` is ``{"Condition": name}`` a reference; elsewhere it is data (IAM).
        self.conditions_context = conditions_context

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside ``value``; ``AWS::NoValue`` entries are dropped."""
        resolved = self._resolve(value)
        return None if resolved is NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
            if key == "Condition" and isinstance(arg, str) and self.conditions_context:
                if arg not in self.scope.conditions:
                    raise _PendingConditionError(arg)
                return self.scope.conditions[arg]
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def ref(self, name: str) -> Any:
        """Return what ``Ref name`` evaluates to."""
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.scope.pseudo:
            return self.scope.pseudo[name]
        if name in self.scope.parameters:
            return self.scope.parameters[name]
        if name in self.scope.refs:
            return self.scope.refs[name]
        msg = f"Ref to {name!r}: not a parameter, pseudo parameter or created resource"
        raise TemplateError(msg)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """Return what ``Fn::GetAtt [logical_id, attribute]`` evaluates to."""
        attrs = self.scope.attrs.get(logical_id)
        if attrs is None:
            msg = f"Fn::GetAtt on {logical_id!r}: resource not created (yet)"
            raise TemplateError(msg)
        if attribute not in attrs:
            msg = f"Fn::GetAtt {logical_id}.{attribute}: attribute not emulated (have {sorted(attrs)})"
            raise TemplateError(msg)
        return attrs[attribute]

    def _fn_ref(self, arg: Any) -> Any:
        return self.ref(str(self._resolve(arg)))

    def _fn_get_att(self, arg: Any) -> Any:
        logical_id, attribute = _split_get_att(self._resolve(arg))
        return self.get_att(logical_id, attribute)

    def _fn_sub(self, arg: Any) -> Any:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, raw_variables = arg
            variables = {key: self._resolve(item) for key, item in raw_variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_text(variables[name])
            if "." in name and name not in self.scope.pseudo:
                logical_id, attribute = name.split(".", 1)
                return _as_text(self.get_att(logical_id, attribute))
            return _as_text(self.ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_join(self, arg: Any) -> str:
        delimiter, items = self._resolve(arg)
        return str(delimiter).join(_as_text(item) for item in items)

    def _fn_select(self, arg: Any) -> Any:
        index, items = self._resolve(arg)
        return items[int(index)]

    def _fn_split(self, arg: Any) -> list[str]:
        delimiter, text = self._resolve(arg)
        return str(text).split(str(delimiter))

    def _fn_if(self, arg: Any) -> Any:
        condition, if_true, if_false = arg
        if condition not in self.scope.conditions:
            msg = f"Fn::If on unknown condition {condition!r}"
            raise TemplateError(msg)
        return self._resolve(if_true if self.scope.conditions[condition] else if_false)

    def _fn_equals(self, arg: Any) -> bool:
        left, right = self._resolve(arg)
        return str(left) == str(right)

    def _fn_not(self, arg: Any) -> bool:
        (inner,) = self._resolve(arg)
        return not bool(inner)

    def _fn_and(self, arg: Any) -> bool:
        return all(bool(item) for item in self._resolve(arg))

    def _fn_or(self, arg: Any) -> bool:
        return any(bool(item) for item in self._resolve(arg))

    def _fn_find_in_map(self, arg: Any) -> Any:
        name, top, second = self._resolve(arg)
        try:
            return self.scope.mappings[name][top][second]
        except KeyError as error:
            msg = f"Fn::FindInMap {name}/{top}/{second}: no such entry"
            raise TemplateError(msg) from error

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(str(self._resolve(arg)).encode()).decode()

    def _fn_to_json_string(self, arg: Any) -> str:
        return json.dumps(self._resolve(arg), separators=(",", ":"))

    def _fn_get_azs(self, arg: Any) -> list[str]:
        region = str(self._resolve(arg) or self.scope.pseudo["AWS::Region"])
        return [f"{region}{zone}" for zone in "abc"]

    _FUNCTIONS: Mapping[str, Any] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::GetAZs": _fn_get_azs,
    }


def evaluate_conditions(template: Mapping[str, Any], scope: Scope) -> dict[str, bool]:
    """Evaluate the template's ``Conditions`` (which may refer to each other) into ``scope``."""
    pending = dict(template.get("Conditions") or {})
    resolver = Resolver(scope, conditions_context=True)
    while pending:
        progressed = False
        for name, expression in list(pending.items()):
            try:
                scope.conditions[name] = bool(resolver.resolve(expression))
            except _PendingConditionError:
                continue
            del pending[name]
            progressed = True
        if not progressed:
            msg = f"conditions cannot be evaluated (cycle or unknown reference): {sorted(pending)}"
            raise TemplateError(msg)
    return scope.conditions


def _split_get_att(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return logical_id, attribute
    logical_id, attribute = value
    return str(logical_id), str(attribute)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def references(value: Any) -> set[str]:
    """Every logical id or parameter name ``value`` refers to via Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    _collect_references(value, found)
    return found


def _collect_references(value: Any, found: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_references(item, found)
        return
    if not isinstance(value, dict):
        return
    for key, arg in value.items():
        if key == "Ref" and isinstance(arg, str):
            found.add(arg)
        elif key == "Fn::GetAtt":
            if isinstance(arg, str | list) and not _has_intrinsic(arg):
                found.add(_split_get_att(arg)[0])
            else:
                _collect_references(arg, found)
        elif key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for name in _SUB_VARIABLE.findall(text):
                if not name.startswith("!") and name not in variables:
                    found.add(name.split(".", 1)[0] if not name.startswith("AWS::") else name)
            _collect_references(variables, found)
        else:
            _collect_references(arg, found)


def _has_intrinsic(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def creation_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Order logical ids so each comes after everything it references or ``DependsOn``; template order breaks ties."""
    dependencies: dict[str, set[str]] = {}
    for logical_id, body in resources.items():
        depends_on = body.get("DependsOn") or []
        explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        implicit = references(body.get("Properties") or {}) | references(body.get("Condition") or {})
        dependencies[logical_id] = {name for name in explicit | implicit if name in resources}
    order: list[str] = []
    placed: set[str] = set()
    remaining = list(resources)
    while remaining:
        ready = [logical_id for logical_id in remaining if dependencies[logical_id] <= placed]
        if not ready:
            msg = f"circular dependency among resources: {sorted(remaining)}"
            raise TemplateError(msg)
        for logical_id in ready:
            order.append(logical_id)
            placed.add(logical_id)
        remaining = [logical_id for logical_id in remaining if logical_id not in placed]
    return order
