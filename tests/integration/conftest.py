"""Shared fixtures of the integration suite: ONE local stack per test session.

``local_stack`` is template.yaml deployed into an emulator, with the offline Bedrock and every worker
whose handler exists polling its queue (supervised: restarted if it dies). The target is the embedded
moto by default; ``SUPPORTFLOW_TARGET=localstack`` deploys into a running LocalStack found as
localstack-client finds it (``$LOCALSTACK_HOST``, default localhost:4566), and ``$AWS_ENDPOINT_URL``
alone deploys into that endpoint (see docs/local-stack.md).

There is no reset between tests: keep tests apart with unique ids (``unique_id``), take only your own
messages off shared queues (``supportflow.local.observe.take_messages`` with a predicate), and use
``local_stack.paused("IntakeFunction")`` to read a queue a worker would drain.
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
