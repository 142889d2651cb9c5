"""Lambda / ECS entry point of the approvals worker: glue only."""

from __future__ import annotations

from workers.approvals.logic import ApprovalTask
from workers.approvals.wiring import build_app
from workers.shared.runtime.readers import TaskTokenReader
from workers.shared.runtime.worker import sqs_worker_reading

# {"taskToken", "stage", "ticket", "draft", "timeout_seconds"} from the escalation's approval task.
lambda_handler = sqs_worker_reading(TaskTokenReader(ApprovalTask), build_app, service="approvals")
