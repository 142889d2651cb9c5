"""One function builds an SQS worker's Lambda handler from its wiring.

The handler owns everything a queue worker repeats: Powertools Logger / Tracer / Metrics, partial
batch failures, reading each record (``readers``), once-only processing keyed on the producer's event
id with a typed stored result, and building the worker's app once per cold start. A worker supplies
its logic and a ``build`` function (its wiring); its ``handler.py`` is one assignment::

    lambda_handler = sqs_worker(consumes=TicketClassified, build=build_app)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from schemas.bus import BusEvent
from schemas.envelope import Event
from workers.shared.runtime.batch import LoggedBatchProcessor
from workers.shared.runtime.once import BuiltOnce, InvocationContext, WorkerMisconfigured
from workers.shared.runtime.readers import BusEventReader, Delivery, EventReader, RecordReader

__all__ = [
    "DEFAULT_IDEMPOTENCY_TTL_SECONDS",
    "DEFAULT_METRICS_NAMESPACE",
    "Emitted",
    "InvocationContext",
    "Outcome",
    "SqsWorker",
    "WorkerApp",
    "WorkerMisconfigured",
    "sqs_bus_worker",
    "sqs_worker",
    "sqs_worker_reading",
]

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=Event)

DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# A copy of an event that another invocation is processing waits this long for its outcome; past it the
# record fails and SQS redelivers it later (by then a crashed original's in-progress mark has expired).
DEFAULT_IN_PROGRESS_WAIT_SECONDS = 20.0
IN_PROGRESS_SAFETY_SECONDS = 5.0
# The template's namespace. Without one Powertools raises at flush, after the batch's effects: an ECS
# task or a test that forgot the variable would fail (and redo) every batch.
DEFAULT_METRICS_NAMESPACE = "supportflow"


class Emitted(BaseModel):
    """One event a worker published: enough to log, count and answer a redelivery with."""

    model_config = ConfigDict(frozen=True)

    detail_type: str
    event_id: str


class Outcome(BaseModel):
    """What a worker did with one message; stored by idempotency and returned for a redelivery."""

    model_config = ConfigDict(frozen=True)

    emitted: tuple[Emitted, ...] = ()

    @classmethod
    def of(cls, events: Event | Sequence[Event] | None) -> Outcome:
        """The outcome of publishing ``events`` (one, several or none)."""
        if events is None:
            return cls()
        published = [events] if isinstance(events, Event) else list(events)
        return cls(emitted=tuple(Emitted(detail_type=e.detail_type, event_id=e.event_id) for e in published))


@dataclass(frozen=True)
class WorkerApp(Generic[M]):
    """A worker's wired app: its logic for one message, and where idempotency records live.

    ``handle`` publishes what it emits (through the worker's publisher port) and returns it; it raises
    to fail the record, so SQS retries it and the DLQ catches it.
    """

    handle: Callable[[M], Event | Sequence[Event] | None]
    persistence: BasePersistenceLayer
    idempotency_ttl_seconds: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS
    # How long a copy waits for another copy of the same event that is being processed at this moment.
    in_progress_wait_seconds: float = DEFAULT_IN_PROGRESS_WAIT_SECONDS


def _waiting_for_in_progress(config: IdempotencyConfig, wait_seconds: float) -> Retrying:
    """Retry while the same event is in progress elsewhere: bounded by the wait and the invocation's time left."""
    context = config.lambda_context
    if context is not None:
        left = context.get_remaining_time_in_millis() / 1000 - IN_PROGRESS_SAFETY_SECONDS
        wait_seconds = max(0.0, min(wait_seconds, left))
    return Retrying(
        retry=retry_if_exception_type(IdempotencyAlreadyInProgressError),
        stop=stop_after_delay(wait_seconds),
        wait=wait_exponential(multiplier=0.1, max=2.0),
        reraise=True,
    )


@dataclass(frozen=True)
class _Running(Generic[M]):
    """The app as the handler runs it: once-only entry point and the config that needs each context."""

    idempotency: IdempotencyConfig
    process_once: Callable[[Delivery[M]], Outcome]


class SqsWorker(Generic[M]):
    """A Lambda handler for an SQS queue of one worker: call it with the SQS event and the context.

    The app is built on the first invocation and kept for the life of the process (one cold start),
    so tests and the emulator can set the environment first, and a test builds its own handler.
    """

    def __init__(self, reader: RecordReader[M], build: Callable[[], WorkerApp[M]], service: str | None = None) -> None:
        self._reader = reader
        self._build = build
        # The consumer may invoke one handler from several poller threads: the app is built once (under
        # a lock) and shared; a batch processor holds one batch's state, so each thread has its own.
        self._running = BuiltOnce(self._start)
        self._local = threading.local()
        self.logger = Logger(service=service)
        self.tracer = Tracer(service=service)
        self.metrics = Metrics(
            service=service, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE
        )
        # No tracer.capture_method on records: on failure it logs the exception's text and puts it in the
        # trace, and pydantic's text echoes the input. Boto3 calls still get their own subsegments.
        self._handler = self.logger.inject_lambda_context(clear_state=True)(
            self.tracer.capture_lambda_handler(
                self.metrics.log_metrics(capture_cold_start_metric=True)(self._handle_batch)
            )
        )

    @property
    def reader(self) -> RecordReader[M]:
        """How this worker reads its messages."""
        return self._reader

    def __call__(self, event: dict[str, Any], context: InvocationContext) -> PartialItemFailureResponse:
        """SQS batch in, partial batch failures out."""
        response: PartialItemFailureResponse = self._handler(event, cast(LambdaContext, context))
        return response

    def app(self) -> _Running[M]:
        """The app of this process, built on first use."""
        return self._running.get()

    @property
    def _processor(self) -> LoggedBatchProcessor:
        processor: LoggedBatchProcessor | None = getattr(self._local, "processor", None)
        if processor is None:
            processor = self._local.processor = LoggedBatchProcessor()
        return processor

    def _start(self) -> _Running[M]:
        app = self._build()
        config = IdempotencyConfig(
            event_key_jmespath=self._reader.idempotency_key, expires_after_seconds=app.idempotency_ttl_seconds
        )

        def process(envelope: BaseModel, message: M) -> Outcome:
            del envelope  # the idempotency key is read from it; the logic takes the message
            return Outcome.of(app.handle(message))

        once = idempotent_function(
            process,
            data_keyword_argument="envelope",
            persistence_store=app.persistence,
            config=config,
            output_serializer=PydanticSerializer(Outcome),
        )

        def process_once(delivery: Delivery[M]) -> Outcome:
            # Another copy of the same event may be in progress right now (an upstream that re-published
            # after a crash): wait for it to finish and answer with its outcome, rather than failing this
            # copy into a quick retry that can exhaust the receives before the original completes.
            for attempt in _waiting_for_in_progress(config, app.in_progress_wait_seconds):
                with attempt:
                    outcome: Outcome = once(envelope=delivery.envelope, message=delivery.message)
            return outcome

        self.logger.info("worker built", extra={"consumes": list(self._reader.consumes)})
        return _Running(idempotency=config, process_once=process_once)

    def _handle_batch(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        self.app().idempotency.register_lambda_context(context)
        return process_partial_response(
            event=event, record_handler=self._handle_record, processor=self._processor, context=context
        )

    def _handle_record(self, record: SQSRecord) -> None:
        delivery = self._reader.read(record.body)
        self.logger.append_keys(correlation_id=delivery.correlation_id)
        try:
            outcome = self.app().process_once(delivery)
            for emitted in outcome.emitted:
                self.metrics.add_metric(name=emitted.detail_type, unit=MetricUnit.Count, value=1)
            self.logger.info(
                "message processed",
                extra={"message_id": record.message_id, "emitted": [e.model_dump() for e in outcome.emitted]},
            )
        finally:
            self.logger.remove_keys(["correlation_id"])


def sqs_worker_reading(
    reader: RecordReader[M], build: Callable[[], WorkerApp[M]], service: str | None = None
) -> SqsWorker[M]:
    """The handler of a worker whose messages ``reader`` parses (the seam for non-bus messages)."""
    return SqsWorker(reader, build, service)


def sqs_worker(*, consumes: type[E], build: Callable[[], WorkerApp[E]], service: str | None = None) -> SqsWorker[E]:
    """The handler of a worker that takes the typed event in each bus event's detail."""
    return SqsWorker(EventReader(consumes), build, service)


def sqs_bus_worker(
    *,
    consumes: type[Event] | Sequence[type[Event]],
    build: Callable[[], WorkerApp[BusEvent]],
    service: str | None = None,
) -> SqsWorker[BusEvent]:
    """The handler of a worker that takes the bus event itself (to answer an invalid detail, or fold several)."""
    event_types = (consumes,) if isinstance(consumes, type) else tuple(consumes)
    return SqsWorker(BusEventReader(event_types), build, service)
