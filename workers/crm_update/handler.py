"""Lambda / ECS entry point of the CRM update worker: glue only."""

from __future__ import annotations

from schemas.events import FeedbackAnalyzed
from workers.crm_update.logic import CRM_EVENTS
from workers.crm_update.wiring import build_app, build_feedback_app
from workers.shared.runtime.worker import sqs_bus_worker, sqs_worker

# A ticket's analysis, drafted reply and escalation outcome from the bus: merged into its one case.
lambda_handler = sqs_bus_worker(consumes=CRM_EVENTS, build=build_app, service="crm-update")

# FeedbackAnalyzed from the bus: the feedback attached to the customer's record.
feedback_handler = sqs_worker(consumes=FeedbackAnalyzed, build=build_feedback_app, service="crm-update")
