"""A handler for the supervisor test: it holds its first delivery (until killed), then records the message."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

# Longer than any test waits: only SIGKILL ends the first delivery.
_HOLD_SECONDS = 600


def hold_first_delivery_then_record(event: dict[str, Any], _context: Any) -> dict[str, list[Any]]:
    """First receive of a message: say so and block; a later receive: write the body where the test looks."""
    directory = Path(os.environ["SUPERVISOR_TEST_DIR"])
    for record in event["Records"]:
        if int(record["attributes"]["ApproximateReceiveCount"]) == 1:
            (directory / "held").write_text(record["messageId"])
            time.sleep(_HOLD_SECONDS)
        (directory / f"processed-{record['messageId']}").write_text(record["body"])
    return {"batchItemFailures": []}
