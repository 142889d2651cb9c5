"""Lambda / ECS entry point of the classification worker: glue only."""

from __future__ import annotations

from schemas.events import TicketAccepted
from workers.classify.wiring import build_app
from workers.shared.runtime.worker import sqs_worker

lambda_handler = sqs_worker(consumes=TicketAccepted, build=build_app, service="classify")
