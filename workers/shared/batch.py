"""SQS batch processing with partial failures, shared by every queue worker."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from schemas.errors import validation_messages

logger = Logger(child=True)


def describe_failure(error: BaseException) -> str:
    """A reason fit for logs: validation errors by field, never the (possibly PII) input itself."""
    if isinstance(error, ValidationError):
        return f"{error.title} failed validation: {'; '.join(validation_messages(error))}"
    return f"{type(error).__name__}: {error}"


class LoggedBatchProcessor(BatchProcessor):
    """SQS partial-batch processing that logs why each record failed.

    Records are parsed by the record handler itself (into models from ``schemas``), so every
    failure — unparseable body or failed effect — passes through ``failure_handler`` and is
    left on the queue: SQS retries it and redrives it to the DLQ after maxReceiveCount.
    """

    def __init__(self) -> None:
        super().__init__(event_type=EventType.SQS)

    def failure_handler(self, record: Any, exception: Any) -> Any:
        """Log the reason with the message id and receive count, then report the failure."""
        error = exception[1]
        message_id = record.message_id if isinstance(record, SQSRecord) else None
        receive_count = record.attributes.approximate_receive_count if isinstance(record, SQSRecord) else None
        logger.error(
            "record failed; left on the queue for retry or the DLQ",
            extra={
                "message_id": message_id,
                "receive_count": receive_count,
                "reason": describe_failure(error),
            },
        )
        return super().failure_handler(record, exception)
