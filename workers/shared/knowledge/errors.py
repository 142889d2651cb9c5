"""The one place botocore errors of the knowledge APIs become the port's named exceptions."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from workers.shared.knowledge.ports import (
    KnowledgeAccessDenied,
    KnowledgeError,
    KnowledgeQueryInvalid,
    KnowledgeSourceNotFound,
    KnowledgeThrottled,
    KnowledgeUnavailable,
)

# Matched by error code (never by message text), for both bedrock-agent-runtime and qbusiness.
_BY_CODE: dict[str, type[KnowledgeError]] = {
    "ResourceNotFoundException": KnowledgeSourceNotFound,
    "ValidationException": KnowledgeQueryInvalid,
    "AccessDeniedException": KnowledgeAccessDenied,
    "LicenseNotFoundException": KnowledgeAccessDenied,
    "ThrottlingException": KnowledgeThrottled,
    "ServiceQuotaExceededException": KnowledgeThrottled,
}


def translate(error: ClientError | BotoCoreError) -> KnowledgeError:
    """The port exception for a botocore error (anything unknown is ``KnowledgeUnavailable``)."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        kind = _BY_CODE.get(code, KnowledgeUnavailable)
        return kind(str(error), code=code or None)
    return KnowledgeUnavailable(str(error), code=type(error).__name__)
