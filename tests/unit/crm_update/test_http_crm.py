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
    headers: dict[str, str] = field(default_factory=dict)


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


@dataclass
class RotatingKey:
    """A key source: the cached key, and what a forced fetch from the store finds (recorded)."""

    cached: str = "k-123"
    stored: str = "k-123"
    forced: int = 0

    def __call__(self, *, force_fetch: bool = False) -> str:
        """The cached key, or the stored one when forced (which then becomes the cached one)."""
        if force_fetch:
            self.forced += 1
            self.cached = self.stored
        return self.cached


def crm(*script: Reply | Exception, key: RotatingKey | None = None) -> tuple[HttpCrm, ScriptedPool]:
    """The adapter on a scripted pool, retrying without waiting."""
    pool = ScriptedPool(iter(script))
    adapter = HttpCrm(
        "http://crm.local/dev/",
        key or RotatingKey(),
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


FORBIDDEN = Reply(403, body({"message": "Forbidden"}), {"x-amzn-ErrorType": "ForbiddenException"})


def test_a_refused_key_is_fetched_again_once_and_the_call_tried_once_more_with_it() -> None:
    # Given a cached key the CRM no longer accepts, and a rotated key in the store
    key = RotatingKey(cached="k-old", stored="k-new")
    adapter, pool = crm(FORBIDDEN, Reply(201, body(CASE)), key=key)
    # When a case is opened
    _case, created = adapter.open_case("C-88", "T-1", {}, "note")
    # Then the key was fetched again once and the second call, with the new key, created the case
    assert created and key.forced == 1
    assert [r["headers"]["x-api-key"] for r in pool.requests] == ["k-old", "k-new"]


def test_a_key_refused_again_is_raised_with_the_gateways_code_and_no_secret_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a wrong key in the store too (a bad rotation), the gateway refusing both
    key = RotatingKey(cached="k-old", stored="k-also-wrong")
    adapter, pool = crm(FORBIDDEN, FORBIDDEN, key=key)
    # When a case is read, Then the refusal is raised after one refetch and one more call, by the gateway's code
    with pytest.raises(CrmRejected) as raised:
        adapter.get_case("case-1")
    assert (raised.value.status, raised.value.code) == (403, "ForbiddenException")
    assert (key.forced, len(pool.requests)) == (1, 2)
    (logged,) = [vars(r) for r in caplog.records if r.getMessage() == "crm rejected a request"]
    assert (logged["route"], logged["status"], logged["code"]) == ("/cases/{id}", 403, "ForbiddenException")
    assert not [r for r in caplog.records if "k-old" in str(vars(r)) or "k-also-wrong" in str(vars(r))]


def test_a_refused_key_that_the_store_still_holds_is_not_sent_again() -> None:
    # Given the store holding the very key the CRM refused
    key = RotatingKey(cached="k-123", stored="k-123")
    adapter, pool = crm(FORBIDDEN, key=key)
    # When a case is read, Then it is refused after the refetch, without a second identical call
    with pytest.raises(CrmRejected):
        adapter.get_case("case-1")
    assert (key.forced, len(pool.requests)) == (1, 1)


def test_a_refusal_other_than_the_key_does_not_fetch_the_key_again() -> None:
    # Given a CRM refusing the body (422)
    key = RotatingKey()
    adapter, _pool = crm(Reply(422, body({"code": "validation_error", "message": "x"})), key=key)
    # When the case is opened, Then it is refused and the key store is not asked again
    with pytest.raises(CrmRejected):
        adapter.open_case("C-88", "T-1", {}, "note")
    assert key.forced == 0
