"""Lambda / ECS entry point of the notifications worker: glue only."""

from __future__ import annotations

from workers.notify.routes import DEFAULT_ROUTES_FILE, RoutingTable
from workers.notify.wiring import build_app
from workers.shared.runtime.worker import sqs_bus_worker

lambda_handler = sqs_bus_worker(
    consumes=RoutingTable.load(DEFAULT_ROUTES_FILE).detail_types, build=build_app, service="notify"
)
