"""Domain exceptions for model calls, and the one place botocore errors are translated into them."""

from __future__ import annotations

from botocore.exceptions import ClientError, EventStreamError


class BedrockError(Exception):
    """Base of every error the Bedrock client raises."""

    def __init__(self, message: str, *, model_id: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.model_id = model_id
        self.code = code
        self.models_tried: tuple[str, ...] = (model_id,) if model_id else ()


class ModelInputInvalid(BedrockError):
    """The request is malformed (caught locally, or Bedrock's ValidationException)."""


class ModelAccessDenied(BedrockError):
    """IAM or model access is missing (AccessDeniedException)."""


class ModelNotFound(BedrockError):
    """Unknown model id, or a model id missing from the catalogue."""


class ModelThrottled(BedrockError):
    """Throttled, after botocore's retries (request level) or inside a stream."""


class ModelUnavailable(BedrockError):
    """ServiceUnavailable, InternalServer or ModelNotReady, after retries."""


class ModelFailed(BedrockError):
    """The model itself failed (ModelErrorException, ModelStreamErrorException)."""


class ModelTimedOut(BedrockError):
    """ModelTimeoutException: the model took too long for this request size."""


class StreamThrottled(ModelThrottled):
    """A throttlingException frame arrived inside an event stream."""


class StreamUnavailable(ModelUnavailable):
    """A serviceUnavailable / internalServer frame arrived inside an event stream."""


class StreamInterrupted(ModelFailed):
    """A modelStreamErrorException frame arrived inside an event stream."""


class TokenBudgetExceeded(BedrockError):
    """The input cannot fit the model's context window or the caller's budget, even trimmed."""

    def __init__(self, message: str, *, model_id: str | None = None, needed: int = 0, limit: int = 0) -> None:
        super().__init__(message, model_id=model_id, code="TokenBudgetExceeded")
        self.needed = needed
        self.limit = limit


class StructuredOutputInvalid(BedrockError):
    """The model's tool input failed schema validation twice (after one corrective retry)."""


class ToolLoopExceeded(BedrockError):
    """The model kept requesting tools beyond the configured number of rounds."""


# Retried by this module with tenacity: errors botocore never sees because they arrive mid-stream.
RETRYABLE_IN_STREAM: tuple[type[BedrockError], ...] = (StreamThrottled, StreamUnavailable, StreamInterrupted)
# Sustained after all retries: move on to the next model of the route.
FALLBACK_ON: tuple[type[BedrockError], ...] = (ModelThrottled, ModelUnavailable)

_REQUEST_ERRORS: dict[str, type[BedrockError]] = {
    "validationexception": ModelInputInvalid,
    "accessdeniedexception": ModelAccessDenied,
    "resourcenotfoundexception": ModelNotFound,
    "throttlingexception": ModelThrottled,
    "servicequotaexceededexception": ModelThrottled,
    "serviceunavailableexception": ModelUnavailable,
    "internalserverexception": ModelUnavailable,
    "modelnotreadyexception": ModelUnavailable,
    "modelerrorexception": ModelFailed,
    "modelstreamerrorexception": StreamInterrupted,
    "modeltimeoutexception": ModelTimedOut,
}
_STREAM_ERRORS: dict[str, type[BedrockError]] = {
    **_REQUEST_ERRORS,
    "throttlingexception": StreamThrottled,
    "serviceunavailableexception": StreamUnavailable,
    "internalserverexception": StreamUnavailable,
}


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore error (event-stream codes are lowerCamel member names)."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def botocore_retry_attempts(error: ClientError) -> int:
    """How many times botocore retried before giving up (0 when unknown)."""
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)


def translate_client_error(error: ClientError, model_id: str) -> BedrockError:
    """Map a botocore ClientError / EventStreamError to the domain exception for it."""
    code = error_code(error)
    table = _STREAM_ERRORS if isinstance(error, EventStreamError) else _REQUEST_ERRORS
    kind = table.get(code.lower(), BedrockError)
    message = str(error.response.get("Error", {}).get("Message", "")) or str(error)
    return kind(f"{code} from {model_id}: {message}", model_id=model_id, code=code)
