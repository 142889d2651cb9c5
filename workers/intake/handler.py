"""Lambda / ECS entry point of the intake worker: glue only."""

from __future__ import annotations

from schemas.events import TicketSubmitted
from workers.intake.wiring import build_app
from workers.shared.runtime.worker import sqs_bus_worker

lambda_handler = sqs_bus_worker(consumes=TicketSubmitted, build=build_app)
