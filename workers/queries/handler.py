"""Lambda / ECS entry point of the queries worker (QueriesQueue, partial batch failures): glue only."""

from __future__ import annotations

from workers.queries.wiring import QUERY_READER, build_app
from workers.shared.runtime.worker import sqs_worker_reading

lambda_handler = sqs_worker_reading(QUERY_READER, build_app, service="queries")
