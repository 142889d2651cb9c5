"""How long the local stack waits for a process it starts (a worker, an API server) to say it is ready.

One value for every kind of process. A loaded 2-core machine starting twenty interpreters at once can take
well over half a minute, so the default is generous; ``SUPPORTFLOW_READY_TIMEOUT_SECONDS`` overrides it.
"""

from __future__ import annotations

import os

DEFAULT_READY_TIMEOUT_SECONDS = 120.0
READY_TIMEOUT_SECONDS = float(os.environ.get("SUPPORTFLOW_READY_TIMEOUT_SECONDS") or DEFAULT_READY_TIMEOUT_SECONDS)
