"""Lambda / ECS entry point of the notifications worker: glue only."""

from __future__ import annotations

import os

from workers.notify.routes import DEFAULT_ROUTES_FILE, RoutingTable
from workers.notify.wiring import build_app
from workers.shared.runtime.worker import sqs_bus_worker

lambda_handler = sqs_bus_worker(
    consumes=RoutingTable.load(os.environ.get("NOTIFICATION_ROUTES_FILE") or DEFAULT_ROUTES_FILE).detail_types,
    build=build_app,
    service="notify",
)
