"""SQS batch processing with partial failures that logs each failure safely."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from workers.shared.runtime.failures import describe_failure

logger = Logger(child=True)


class LoggedBatchProcessor(BatchProcessor):
    """SQS partial-batch processing that logs why each record failed, by type and field only.

    Records are parsed by the record handler itself (into models from ``schemas``), so every
    failure, unparseable body or failed effect, passes through ``failure_handler`` and is left on
    the queue: SQS retries it and redrives it to the DLQ after maxReceiveCount. A batch whose every
    record failed is reported like any other (all ids listed) instead of raising, so no exception
    text (pydantic echoes its input) reaches the Lambda runtime's or the consumer's log.
    """

    def __init__(self) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: Any) -> Any:
        """Log the reason with the message id and receive count, then report the failure."""
        error: BaseException = exception[1]
        message_id = record.message_id if isinstance(record, SQSRecord) else None
        receive_count = record.attributes.approximate_receive_count if isinstance(record, SQSRecord) else None
        logger.error(
            "record failed; left on the queue for retry or the DLQ",
            extra={"message_id": message_id, "receive_count": receive_count, **describe_failure(error)},
        )
        # Not the base class's handler: it formats the exception text into a debug log line.
        self.exceptions.append(exception)
        self.fail_messages.append(record)
        return ("fail", type(error).__name__, record)
