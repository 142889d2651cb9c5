"""Lambda / ECS entry points of the feedback worker: glue only."""

from __future__ import annotations

from workers.feedback.models import COMPLETION_TYPES, OBJECT_CREATED, FeedbackTask
from workers.feedback.readers import DetailTypeReader
from workers.feedback.wiring import build_correlator_app, build_intake_app, build_task_app
from workers.shared.runtime.readers import TaskTokenReader
from workers.shared.runtime.worker import sqs_worker_reading

# FeedbackReceived (supportflow) and "Object Created" (aws.s3, default bus) under the feedback prefix.
lambda_handler = sqs_worker_reading(
    DetailTypeReader(("FeedbackReceived", OBJECT_CREATED)), build_intake_app, service="feedback"
)

# {"taskToken", "step", "feedback", ...} from the feedback state machine's worker tasks.
task_handler = sqs_worker_reading(TaskTokenReader(FeedbackTask), build_task_app, service="feedback")

# Bedrock Data Automation's completion events (aws.bedrock, default bus).
completion_handler = sqs_worker_reading(DetailTypeReader(COMPLETION_TYPES), build_correlator_app, service="feedback")
