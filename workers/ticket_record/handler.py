"""Lambda / ECS entry point of the ticket record worker: glue only."""

from __future__ import annotations

from workers.shared.runtime.readers import BusEventReader
from workers.shared.runtime.worker import sqs_worker_reading
from workers.ticket_record.logic import FOLDED_EVENTS
from workers.ticket_record.wiring import build_app

lambda_handler = sqs_worker_reading(BusEventReader(tuple(FOLDED_EVENTS.values())), build_app, "ticket-record")
