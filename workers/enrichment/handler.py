"""Lambda / ECS entry points of the enrichment worker: glue only."""

from __future__ import annotations

from workers.enrichment.models import JOB_STATE_CHANGE, EnrichmentTask
from workers.enrichment.readers import DetailTypeReader
from workers.enrichment.wiring import build_correlator_app, build_task_app
from workers.shared.runtime.readers import TaskTokenReader
from workers.shared.runtime.worker import sqs_worker_reading

# {"taskToken", "step", "run", ...} from the enrichment state machine's worker tasks.
task_handler = sqs_worker_reading(TaskTokenReader(EnrichmentTask), build_task_app, service="enrichment")

# "Batch Inference Job State Change" (aws.bedrock, default bus).
completion_handler = sqs_worker_reading(
    DetailTypeReader((JOB_STATE_CHANGE,)), build_correlator_app, service="enrichment"
)
