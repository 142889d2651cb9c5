"""Secrets Manager: secrets (given or generated), and ``{{resolve:secretsmanager:…}}`` references to them."""

from __future__ import annotations

import json
import re
from typing import Any

from supportflow.local.intrinsics import TemplateError
from supportflow.local.resources.registry import Created, Deployment, creates, tags

# {{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}
_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:(?P<reference>[^}]+)\}\}")
_ARN_PARTS = 7  # arn:aws:secretsmanager:region:account:secret:name-suffix


@creates("AWS::SecretsManager::Secret")
def create_secret(deployment: Deployment, logical_id: str, properties: dict[str, Any]) -> Created:
    """A secret with its SecretString, or one generated per GenerateSecretString."""
    secrets = deployment.clients.client("secretsmanager")
    name = properties.get("Name") or deployment.physical_name(logical_id, 256)
    if properties.get("SecretString") is not None:
        value = str(properties["SecretString"])
    else:
        value = _generate(secrets, properties.get("GenerateSecretString") or {})
    kwargs: dict[str, Any] = {"Name": name, "SecretString": value}
    if properties.get("Description"):
        kwargs["Description"] = properties["Description"]
    if tags(properties):
        kwargs["Tags"] = tags(properties)
    arn = secrets.create_secret(**kwargs)["ARN"]
    return Created(ref=arn, attributes={"Id": arn})


def _generate(secrets: Any, spec: dict[str, Any]) -> str:
    kwargs: dict[str, Any] = {}
    for key in (
        "ExcludeCharacters",
        "ExcludeLowercase",
        "ExcludeNumbers",
        "ExcludePunctuation",
        "ExcludeUppercase",
        "IncludeSpace",
        "PasswordLength",
        "RequireEachIncludedType",
    ):
        if spec.get(key) is not None:
            value = spec[key]
            kwargs[key] = int(value) if key == "PasswordLength" else value
            if isinstance(value, str) and key != "ExcludeCharacters":
                kwargs[key] = value.lower() == "true"
    password = str(secrets.get_random_password(**kwargs)["RandomPassword"])
    template, field = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and field:
        document = json.loads(template)
        document[field] = password
        return json.dumps(document)
    return password


def resolve_dynamic_references(deployment: Deployment, value: str) -> str:
    """Replace each ``{{resolve:secretsmanager:id[:SecretString[:json-key]]}}`` with the stored value."""

    def lookup(match: re.Match[str]) -> str:
        reference = match.group("reference")
        parts = reference.split(":")
        # The id is a name or a full ARN (which itself holds six colons).
        secret_id, rest = (
            (":".join(parts[:_ARN_PARTS]), parts[_ARN_PARTS:]) if parts[0] == "arn" else (parts[0], parts[1:])
        )
        if rest and rest[0] not in ("", "SecretString"):
            msg = f"unsupported secretsmanager dynamic reference field {rest[0]!r}"
            raise TemplateError(msg)
        text = str(deployment.clients.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
        json_key = rest[1] if len(rest) > 1 else ""
        return str(json.loads(text)[json_key]) if json_key else text

    return _DYNAMIC_REFERENCE.sub(lookup, value)
