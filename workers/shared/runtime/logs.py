"""Structured (JSON lines) logging for the queue consumer (and the local stack), safe for exceptions."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from workers.shared.runtime.failures import describe_failure, exception_frames

# Attributes every LogRecord has; anything else came in through ``extra=`` and is logged as a field.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, logger, message and the ``extra`` fields."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` as a JSON line."""
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self._service:
            payload["service"] = self._service
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            # Type and frames only, never the message: pydantic (and others) echo their input into it.
            payload["exception"] = {
                **describe_failure(record.exc_info[1]),
                "where": exception_frames(record.exc_info[1]),
            }
        return json.dumps(payload, default=str)


def configure_json_logging(level: str | int | None = None, service: str | None = None) -> None:
    """Send the root logger to stderr as JSON lines (idempotent; level from ``LOG_LEVEL`` by default)."""
    root = logging.getLogger()
    resolved = level if level is not None else os.environ.get("LOG_LEVEL", "INFO")
    root.setLevel(resolved)
    for handler in root.handlers:
        if getattr(handler, "_supportflow_json", False):
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler._supportflow_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # botocore and werkzeug chatter drowns the pipeline's own events at INFO.
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
