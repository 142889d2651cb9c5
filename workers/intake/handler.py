"""Lambda / ECS entry point of the intake worker: glue only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from schemas.bus import BusEvent
from workers.intake.bootstrap import get_app
from workers.shared.batch import LoggedBatchProcessor

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = LoggedBatchProcessor()


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    """Parse one SQS message as a bus event and accept or reject the ticket in it, once."""
    bus_event = parse(event=record.json_body, model=BusEvent)
    logger.append_keys(correlation_id=bus_event.correlation_id)
    outcome = get_app().process_once(bus_event=bus_event)
    metrics.add_metric(name=outcome["detail_type"], unit=MetricUnit.Count, value=1)
    logger.info("ticket processed", extra=outcome)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS batch in, partial batch failures out."""
    get_app().idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
