"""Lambda entry point of the public REST API (API Gateway REST proxy events, after the authorizer): glue only."""

from __future__ import annotations

from workers.api.app import app, refuse_unreadable_body
from workers.api.wiring import build_service
from workers.shared.runtime.http import http_worker

lambda_handler = http_worker(app, build_service, service="public-api", guard=refuse_unreadable_body)
