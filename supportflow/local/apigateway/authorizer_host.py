"""Runs one authorizer handler for the local gateway: a JSON event per stdin line, a JSON answer per stdout line.

python -m supportflow.local.apigateway.authorizer_host workers.authorizer.handler.lambda_handler
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from typing import Any


class _Context:
    """The parts of a Lambda context that handlers and Powertools read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 30

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(argv: list[str] | None = None) -> int:
    """Serve invocations until stdin closes."""
    dotted = (argv if argv is not None else sys.argv[1:])[0]
    # The answer channel is a private copy of fd 1; everything the handler prints (its loggers bind
    # sys.stdout at import) goes to stderr instead.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    module_name, _, attribute = dotted.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    for line in sys.stdin:
        answer: dict[str, Any]
        try:
            answer = {"result": handler(json.loads(line), _Context(module_name))}
        except Exception as error:
            answer = {"error": str(error), "type": type(error).__name__}
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
