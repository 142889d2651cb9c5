"""Feedback in: a ``FeedbackReceived`` event or an object under the feedback prefix.

Short inline text is analysed at once (no document to read); a document, or text too long to analyse
inline, starts one execution of the feedback state machine per object revision (the execution name is
derived from it, so a redelivered event starts nothing new).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from aws_lambda_powertools import Logger

from schemas.bus import BusEvent
from schemas.envelope import Event, derived_event_id
from schemas.events import FeedbackAnalyzed, FeedbackFailed, FeedbackReceived
from workers.feedback.analysis import FeedbackAnalyst
from workers.feedback.models import OBJECT_CREATED, FeedbackJob, ObjectCreated, digest
from workers.feedback.ports import Executions, ObjectStore
from workers.feedback.results import Extraction
from workers.shared.publisher import EventPublisher

logger = Logger(child=True)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
# User metadata the CLI (or any uploader) sets on the object: x-amz-meta-customer-id, -feedback-id.
CUSTOMER_META = "customer-id"
FEEDBACK_META = "feedback-id"


@dataclass(frozen=True)
class IntakeSettings:
    """Where inline text too long to analyse inline is written, and the inline limit."""

    bucket: str
    inline_prefix: str = "inline/"
    inline_max_chars: int = 2000


def execution_name(document_uri: str, revision: str) -> str:
    """One execution per object revision (names are unique per state machine for 90 days)."""
    return f"feedback-{digest(document_uri, revision, length=48)}"


class FeedbackIntake:
    """Starts the right path for each piece of feedback."""

    def __init__(
        self,
        analyst: FeedbackAnalyst,
        executions: Executions,
        objects: ObjectStore,
        publisher: EventPublisher,
        settings: IntakeSettings,
    ) -> None:
        self._analyst = analyst
        self._executions = executions
        self._objects = objects
        self._publisher = publisher
        self._settings = settings

    def process(self, event: BusEvent) -> Event | None:
        """Take one event; returns what was published (nothing when an execution was started)."""
        if event.detail_type == OBJECT_CREATED:
            self._uploaded(ObjectCreated.model_validate(event.detail))
            return None
        return self._received(event.parse_detail(FeedbackReceived))

    def _uploaded(self, created: ObjectCreated) -> None:
        uri = created.uri
        metadata = self._objects.metadata(uri)
        stem = PurePosixPath(created.key).stem
        feedback_id = metadata.get(FEEDBACK_META) or (stem if _ID.match(stem) else f"fb-{digest(uri, length=24)}")
        job = FeedbackJob(
            feedback_id=feedback_id,
            correlation_id=feedback_id,
            customer_id=metadata.get(CUSTOMER_META) or None,
            document_uri=uri,
        )
        self._start(job, created.revision)

    def _received(self, received: FeedbackReceived) -> Event | None:
        job = FeedbackJob(
            feedback_id=received.feedback_id,
            correlation_id=received.correlation_id,
            tenant_id=received.tenant_id,
            customer_id=received.customer_id,
            document_uri=str(received.document_uri) if received.document_uri else None,
            rating=received.rating,
        )
        if job.document_uri:
            self._start(job, received.event_id)
            return None
        text = (received.text or "").strip()
        if not text:
            failed = received.follow_up(
                FeedbackFailed,
                feedback_id=received.feedback_id,
                customer_id=received.customer_id,
                error="input",
                reason="feedback carries neither text nor a document",
            )
            self._publisher.publish([failed])
            return failed
        if len(text) > self._settings.inline_max_chars:
            uri = f"s3://{self._settings.bucket}/{self._settings.inline_prefix}{received.feedback_id}.txt"
            self._objects.put_text(uri, text, {FEEDBACK_META: received.feedback_id})
            self._start(job.model_copy(update={"document_uri": uri}), received.event_id)
            return None
        event_id = derived_event_id(received.event_id, FeedbackAnalyzed.detail_type)
        analyzed = self._analyst.analyze(job, Extraction(text=text), event_id)
        self._publisher.publish([analyzed])
        return analyzed

    def _start(self, job: FeedbackJob, revision: str) -> None:
        started = self._executions.start(execution_name(job.document_uri or "", revision), job)
        logger.info("feedback execution", extra={"feedback_id": job.feedback_id, "started": started})
