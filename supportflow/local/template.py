"""Load template.yaml, make its local paths translatable, and turn SAM into CloudFormation offline."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supportflow.local.foreach import expand_language_extensions
from supportflow.local.intrinsics import TemplateError

# The translator rejects local paths; functions never run from S3 locally, so any bucket name will do.
LOCAL_ARTIFACT_BUCKET = "supportflow-local-artifacts"
_CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


@dataclass(frozen=True)
class Template:
    """A template as the local stack deploys it: the SAM source (loops unrolled), its translation, parameters."""

    path: Path
    source: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, Any]
    conditions: dict[str, Any]
    mappings: dict[str, Any]
    parameters: dict[str, str]

    @property
    def cloudformation(self) -> dict[str, Any]:
        """The translated template as one CloudFormation document."""
        return {
            "Parameters": self.source.get("Parameters") or {},
            "Conditions": self.conditions,
            "Mappings": self.mappings,
            "Resources": self.resources,
            "Outputs": self.outputs,
        }


def load_template(
    path: Path,
    parameter_overrides: Mapping[str, str] | None = None,
    default_overrides: Mapping[str, str] | None = None,
) -> Template:
    """Parse ``path`` (short-form tags included), validate parameters and translate SAM offline.

    ``default_overrides`` replace the template's defaults for the parameters it declares (the local
    stage, say); ``parameter_overrides`` win over both and must name declared parameters.
    """
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415 - ~0.3 s import, only when booting

    source = yaml_parse(path.read_text(encoding="utf-8"))
    if not isinstance(source, dict) or "Resources" not in source:
        msg = f"{path}: not a CloudFormation/SAM template (no Resources)"
        raise TemplateError(msg)
    declared = source.get("Parameters") or {}
    defaults = {name: value for name, value in (default_overrides or {}).items() if name in declared}
    parameters = effective_parameters(source, {**defaults, **(parameter_overrides or {})})
    # CloudFormation runs AWS::LanguageExtensions (Fn::ForEach) before the SAM transform; so do we.
    source = expand_language_extensions(source, parameters)
    translated = translate(localise_paths(source, path.parent), parameters) if _is_sam(source) else source
    return Template(
        path=path,
        source=source,
        resources=dict(translated.get("Resources") or {}),
        outputs=dict(translated.get("Outputs") or {}),
        conditions=dict(translated.get("Conditions") or {}),
        mappings=dict(translated.get("Mappings") or {}),
        parameters=parameters,
    )


def _is_sam(source: Mapping[str, Any]) -> bool:
    transform = source.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return any(isinstance(name, str) and name.startswith("AWS::Serverless") for name in names)


def effective_parameters(source: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Parameter values as CloudFormation would see them: defaults, then overrides, validated."""
    declared: Mapping[str, Any] = source.get("Parameters") or {}
    unknown = set(overrides) - set(declared)
    if unknown:
        msg = f"unknown parameter(s) {sorted(unknown)}; the template declares {sorted(declared)}"
        raise TemplateError(msg)
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value: Any = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            msg = f"parameter {name!r} has no default: pass a value"
            raise TemplateError(msg)
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        _validate_parameter(name, spec, text)
        values[name] = text
    return values


def _validate_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(item) for item in allowed]:
        msg = f"parameter {name}={value!r} not in AllowedValues {allowed}"
        raise TemplateError(msg)
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        msg = f"parameter {name}={value!r} does not match AllowedPattern {pattern!r}"
        raise TemplateError(msg)
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError as error:
            msg = f"parameter {name}={value!r} is not a Number"
            raise TemplateError(msg) from error
        if "MinValue" in spec and number < float(spec["MinValue"]):
            msg = f"parameter {name}={value} is below MinValue {spec['MinValue']}"
            raise TemplateError(msg)
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            msg = f"parameter {name}={value} is above MaxValue {spec['MaxValue']}"
            raise TemplateError(msg)


def localise_paths(source: Mapping[str, Any], base_dir: Path) -> dict[str, Any]:
    """Replace local CodeUri/ContentUri with S3 URIs and inline local state machine definitions."""
    prepared: dict[str, Any] = copy.deepcopy(dict(source))
    function_globals = (prepared.get("Globals") or {}).get("Function") or {}
    if _is_local_path(function_globals.get("CodeUri")):
        function_globals["CodeUri"] = _artifact_uri(function_globals["CodeUri"])
    for body in (prepared.get("Resources") or {}).values():
        properties = body.get("Properties")
        if not isinstance(properties, dict):
            continue
        code_property = _CODE_PROPERTIES.get(body.get("Type", ""))
        if code_property and _is_local_path(properties.get(code_property)):
            properties[code_property] = _artifact_uri(properties[code_property])
        if body.get("Type") == "AWS::Serverless::StateMachine" and _is_local_path(properties.get("DefinitionUri")):
            definition_path = base_dir / properties.pop("DefinitionUri")
            properties["Definition"] = _load_definition(definition_path)
    return prepared


def _is_local_path(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith("s3://")


def _artifact_uri(local_path: str) -> str:
    key = local_path.strip("./") or "root"
    return f"s3://{LOCAL_ARTIFACT_BUCKET}/{key}.zip"


def _load_definition(path: Path) -> Any:
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml_parse(text)


def translate(source: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """Translate SAM to CloudFormation with no AWS call (bundled managed-policy map)."""
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map  # noqa: PLC0415
    from samtranslator.translator.transform import transform  # noqa: PLC0415

    # The translator builds a boto3 session to fill AWS::Region; without a region it fails.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # The translator records usage metrics for AWS's own publisher and warns when nobody publishes them.
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    translated: dict[str, Any] = transform(
        copy.deepcopy(dict(source)), dict(parameters), get_bundled_managed_policy_map("aws")
    )
    return translated
