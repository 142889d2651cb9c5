"""Lambda entry point of the mock CRM (API Gateway REST proxy events): glue only."""

from __future__ import annotations

from workers.crm_api.app import app, refuse_unreadable_body
from workers.crm_api.wiring import build_service
from workers.shared.runtime.http import http_worker

lambda_handler = http_worker(app, build_service, service="crm-api", guard=refuse_unreadable_body)
