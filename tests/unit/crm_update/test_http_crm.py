"""The HTTP adapter over a scripted connection pool: retries what may pass, refuses what cannot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import urllib3

from workers.crm_update.http_crm import HttpCrm, HttpPolicy
from workers.crm_update.port import CrmRejected, CrmUnavailable, CustomerNotFound, VersionConflict

CASE = {"case_id": "case-1", "customer_id": "C-88", "ticket_id": "T-1", "status": "open", "version": 1}


@dataclass
class Reply:
    """What urllib3 would return."""

    status: int
    data: bytes = b""


@dataclass
class ScriptedPool:
    """Answers requests from a script of replies or exceptions, and records them."""

    script: Iterator[Reply | Exception]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> Reply:
        """The next scripted answer."""
        self.requests.append({"method": method, "url": url, **kwargs})
        answer = next(self.script)
        if isinstance(answer, Exception):
            raise answer
        return answer


def crm(*script: Reply | Exception) -> tuple[HttpCrm, ScriptedPool]:
    """The adapter on a scripted pool, retrying without waiting."""
    pool = ScriptedPool(iter(script))
    adapter = HttpCrm(
        "http://crm.local/dev/",
        lambda: "k-123",
        HttpPolicy(attempts=3, backoff_seconds=0.0),
        pool=cast(urllib3.PoolManager, pool),
    )
    return adapter, pool


def body(value: dict[str, Any]) -> bytes:
    """JSON bytes."""
    return json.dumps(value).encode()


def test_timeouts_and_5xx_are_retried_then_the_answer_is_used() -> None:
    # Given a CRM that times out, then answers 503, then creates the case
    adapter, pool = crm(
        urllib3.exceptions.ReadTimeoutError(cast(urllib3.HTTPConnectionPool, None), "/", "timed out"),
        Reply(503),
        Reply(201, body(CASE)),
    )
    # When the case is opened
    case, created = adapter.open_case("C-88", "T-1", {"priority": "high", "summary": None}, "note")
    # Then the third attempt created it, each with the key and the same body (None fields left out)
    assert created and case.case_id == "case-1"
    assert len(pool.requests) == 3
    assert pool.requests[0]["url"] == "http://crm.local/dev/customers/C-88/cases/T-1"
    assert pool.requests[2]["headers"]["x-api-key"] == "k-123"
    assert json.loads(pool.requests[2]["body"]) == {"priority": "high", "notes": ["note"]}


def test_an_outage_longer_than_the_retries_is_raised_for_sqs_to_retry() -> None:
    # Given a CRM that keeps answering 502
    adapter, pool = crm(Reply(502), Reply(502), Reply(502))
    # When a case is read, Then CrmUnavailable is raised after the bounded attempts
    with pytest.raises(CrmUnavailable):
        adapter.get_case("case-1")
    assert len(pool.requests) == 3


def test_a_4xx_is_not_retried_and_carries_the_crms_code() -> None:
    # Given a CRM refusing the body
    adapter, pool = crm(Reply(422, body({"code": "validation_error", "message": "summary: too long"})))
    # When the case is opened, Then the refusal is raised once, with the stable code
    with pytest.raises(CrmRejected) as raised:
        adapter.open_case("C-88", "T-1", {}, "note")
    assert (raised.value.status, raised.value.code) == (422, "validation_error")
    assert len(pool.requests) == 1


def test_404_412_and_428_mean_missing_customer_conflict_and_already_there() -> None:
    # Given answers for each
    adapter, pool = crm(
        Reply(404, body({"code": "not_found", "message": "customer"})),
        Reply(412, body({"code": "version_mismatch", "message": "x"})),
        Reply(428, body({"code": "precondition_required", "message": "x"})),
    )
    # Then a case for an unknown customer, a stale update and a racing create are told apart
    with pytest.raises(CustomerNotFound):
        adapter.open_case("C-9", "T-1", {}, "note")
    with pytest.raises(VersionConflict):
        adapter.update_case("case-1", 1, {"status": "escalated"}, "note")
    adapter.create_customer("C-9", "standard")
    assert pool.requests[1]["headers"]["If-Match"] == '"1"'


def test_ids_are_escaped_into_the_path() -> None:
    # Given an id with a slash
    adapter, pool = crm(Reply(200, body(CASE)))
    # When the case is read, Then the slash cannot reach another route
    adapter.get_case("case/../x")
    assert pool.requests[0]["url"] == "http://crm.local/dev/cases/case%2F..%2Fx"
