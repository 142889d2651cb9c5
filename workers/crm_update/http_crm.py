"""The CRM port over HTTP (urllib3, which ships with botocore): JSON, x-api-key, ETag/If-Match, bounded retries.

A 401/403 may mean the key was rotated under the cached copy: the key is fetched once more and, if it
changed, the call is tried once more before the refusal is raised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import urllib3
from aws_lambda_powertools import Logger
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from workers.crm_update.port import CaseRecord, CrmRejected, CrmUnavailable, CustomerNotFound, VersionConflict

logger = Logger(child=True)

_OK = range(200, 300)
_RETRYABLE_STATUS = frozenset({408, 429})
_KEY_REFUSED = frozenset({401, 403})


class ApiKeySource(Protocol):
    """The x-api-key: the cached value, or fetched again from its store with ``force_fetch``."""

    def __call__(self, *, force_fetch: bool = False) -> str:
        """The key."""
        ...


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and the bounded backoff for what may pass (timeouts, connection errors, 5xx, 429)."""

    connect_timeout_seconds: float = 2.0
    read_timeout_seconds: float = 5.0
    attempts: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 4.0


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any
    error_type: str | None = None  # API Gateway's own refusals name themselves in x-amzn-ErrorType


def _segment(value: str) -> str:
    return quote(value, safe="")


class HttpCrm:
    """Calls the CRM's REST API; every id goes into the path escaped, the key into ``x-api-key``."""

    def __init__(
        self,
        base_url: str,
        api_key: ApiKeySource,
        policy: HttpPolicy | None = None,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._policy = policy or HttpPolicy()
        self._pool = pool or urllib3.PoolManager()
        self._retrying = Retrying(
            retry=retry_if_exception_type(CrmUnavailable),
            stop=stop_after_attempt(self._policy.attempts),
            wait=wait_exponential(multiplier=self._policy.backoff_seconds, max=self._policy.max_backoff_seconds),
            reraise=True,
        )

    def create_customer(self, customer_id: str, tier: str) -> None:
        """PUT the customer without If-Match; 428 means it exists already (a racing create)."""
        # The CRM needs a name; the pipeline knows none it may share, so the id stands in.
        body = {"name": customer_id, "tier": tier}
        answer = self._call("PUT", f"/customers/{_segment(customer_id)}", "/customers/{id}", body, accept={428})
        del answer

    def open_case(self, customer_id: str, ticket_id: str, fields: dict[str, Any], note: str) -> tuple[CaseRecord, bool]:
        """PUT the ticket's case without If-Match: 201 created, 200 the existing one."""
        body = {**{k: v for k, v in fields.items() if v is not None}, "notes": [note]}
        path = f"/customers/{_segment(customer_id)}/cases/{_segment(ticket_id)}"
        answer = self._call("PUT", path, "/customers/{id}/cases/{ticket}", body, not_found=CustomerNotFound)
        return CaseRecord.model_validate(answer.body), answer.status == 201

    def get_case(self, case_id: str) -> CaseRecord:
        """GET the case."""
        answer = self._call("GET", f"/cases/{_segment(case_id)}", "/cases/{id}", None)
        return CaseRecord.model_validate(answer.body)

    def update_case(self, case_id: str, version: int, changes: dict[str, Any], note: str) -> CaseRecord:
        """PATCH the case under ``If-Match``; 412 is a VersionConflict."""
        body = {**changes, "add_notes": [note]}
        answer = self._call(
            "PATCH", f"/cases/{_segment(case_id)}", "/cases/{id}", body, headers={"If-Match": f'"{version}"'}
        )
        return CaseRecord.model_validate(answer.body)

    def _call(
        self,
        method: str,
        path: str,
        route: str,
        body: dict[str, Any] | None,
        *,
        headers: dict[str, str] | None = None,
        accept: frozenset[int] | set[int] = frozenset(),
        not_found: type[CrmRejected] = CrmRejected,
    ) -> _Answer:
        key = self._api_key()
        answer: _Answer = self._retrying(self._send, method, path, route, body, headers=headers or {}, key=key)
        if answer.status in _KEY_REFUSED:
            fresh = self._api_key(force_fetch=True)
            # The same key again would only be refused again.
            if fresh != key:
                logger.info(
                    "crm refused the cached api key; retrying with the key fetched again",
                    extra={"method": method, "route": route, "status": answer.status},
                )
                answer = self._retrying(self._send, method, path, route, body, headers=headers or {}, key=fresh)
        if answer.status in _OK or answer.status in accept:
            return answer
        if answer.status == 412:
            raise VersionConflict(route)
        code = answer.body.get("code") if isinstance(answer.body, dict) else None
        code = code or answer.error_type or "unknown"
        # The route template and the CRM's stable code, never ids or bodies.
        logger.warning(
            "crm rejected a request", extra={"method": method, "route": route, "status": answer.status, "code": code}
        )
        if answer.status == 404:
            raise not_found(answer.status, str(code))
        raise CrmRejected(answer.status, str(code))

    def _send(
        self, method: str, path: str, route: str, body: dict[str, Any] | None, *, headers: dict[str, str], key: str
    ) -> _Answer:
        all_headers = {"x-api-key": key, "Accept": "application/json", **headers}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            response = self._pool.request(
                method,
                self._base_url + path,
                body=json.dumps(body).encode() if body is not None else None,
                headers=all_headers,
                timeout=urllib3.Timeout(
                    connect=self._policy.connect_timeout_seconds, read=self._policy.read_timeout_seconds
                ),
                retries=False,
            )
        except urllib3.exceptions.HTTPError as error:
            logger.warning("crm unreachable", extra={"method": method, "route": route, "error": type(error).__name__})
            raise CrmUnavailable(type(error).__name__) from None
        if response.status >= 500 or response.status in _RETRYABLE_STATUS:
            logger.warning("crm unavailable", extra={"method": method, "route": route, "status": response.status})
            raise CrmUnavailable(f"CRM answered {response.status}")
        try:
            parsed = json.loads(response.data) if response.data else None
        except ValueError:
            parsed = None
        # AWS may suffix the type with ":<namespace url>"; the name alone is the stable code.
        error_type = str(response.headers.get("x-amzn-ErrorType") or "").split(":", 1)[0] or None
        return _Answer(response.status, parsed, error_type)
