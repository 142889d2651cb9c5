"""Lambda / ECS entry points of the drafting worker: glue only."""

from __future__ import annotations

from schemas.events import TicketAnalyzed
from workers.drafting.tasks import DraftTask
from workers.drafting.wiring import build_app, build_task_app
from workers.shared.runtime.readers import TaskTokenReader
from workers.shared.runtime.worker import sqs_worker, sqs_worker_reading

# TicketAnalyzed (not escalated) from the bus.
lambda_handler = sqs_worker(consumes=TicketAnalyzed, build=build_app, service="drafting")

# {"taskToken", "ticket"} from the escalation state machine's waitForTaskToken task.
task_handler = sqs_worker_reading(TaskTokenReader(DraftTask), build_task_app, service="drafting")
