"""Lambda entry point of the REQUEST authorizer (REST methods and WebSocket ``$connect``): glue only."""

from __future__ import annotations

from workers.authorizer.policy import authorize
from workers.authorizer.wiring import build_authorizer
from workers.shared.runtime.function import function_worker

lambda_handler = function_worker(build_authorizer, authorize, service="api-authorizer")
