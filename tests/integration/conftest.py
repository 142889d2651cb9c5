"""Shared fixtures of the integration suite: ONE local stack per test session.

``local_stack`` is template.yaml deployed into the embedded emulator (moto, or ``$AWS_ENDPOINT_URL``
such as a LocalStack), with the offline Bedrock and every worker whose handler exists polling its
queue. There is no reset between tests: keep tests apart with unique ids (``unique_id``), take
only your own messages off shared queues (``supportflow.local.observe.take_messages`` with a
predicate), and use ``local_stack.paused("IntakeFunction")`` to read a queue a worker would drain.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from supportflow.local import EmulatedStack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[EmulatedStack]:
    """The session's local stack (stage ``it-<random>``); stopped, with every process, at session end."""
    with EmulatedStack.start(stage=f"it-{uuid.uuid4().hex[:6]}") as stack:
        yield stack


@pytest.fixture
def unique_id() -> str:
    """A short id unique to this test, for names, ticket ids and correlation ids."""
    return uuid.uuid4().hex[:10]
