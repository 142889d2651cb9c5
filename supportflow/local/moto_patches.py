"""Make moto's SQS cost per call independent of queue depth (and two per-request costs), in process only.

moto 5.2.x (`moto/sqs/models.py`, the same code in 5.2.0 to 5.2.5) rebuilds every queue attribute,
the three ``ApproximateNumberOf*`` counts included, each time it reads one static attribute; every
count is a scan of every stored message with a ``datetime`` clock read per message:

- ``SendMessage`` reads ``ContentBasedDeduplication`` through ``Queue.attributes``: 3 scans per message;
- ``ReceiveMessage`` checks each returned message's retention through ``get_queue_attributes``,
  which rebuilds ``Queue.attributes`` three times: 9 scans per returned message, plus ``Queue.messages``
  (visible and not delayed, two clock reads per stored message) once per call;
- ``DeleteMessage`` allocates every stored message's receipt-handle list twice to find one handle;
- ``GetQueueAttributes`` with N names rebuilds ``Queue.attributes`` 1 + 2N times.

The patch keeps every rule and value. It reads the retention period from the queue itself, lets a
send build the attributes without the counts (no caller inside a send reads them), counts and
filters with one clock read per call instead of one per message (still moto's ``unix_time_millis``,
so time freezing still applies), deletes by the first message holding the handle, and builds the
attributes once per ``GetQueueAttributes`` call (one snapshot). Visibility, delays, redrive after
``maxReceiveCount``, FIFO groups and deduplication and receive counts stay moto's own code.

Measured next, once SQS was flat: every request resolved its service under the dispatcher's lock
with a listdir, ~150 stats and the URL regexes (~0.9 ms; now remembered per host), and EventBridge
compiled its 8 default JSONPaths with a fresh ply parser for every event and target (~12 ms; now
compiled once). Both give the same results as moto's code.

It is applied only for the moto versions whose source it was checked against (``SUPPORTED``); outside
them it logs a warning and does nothing. A moto server in another process is never patched.

Upstream change that retires it: moto's SQS reading static attributes from the queue's fields (not
the ``attributes`` dict) in ``send_message``, ``add_message``, ``_validate_message`` and
``is_message_valid_based_on_retention_period``, counting in one pass with one clock read, and
building the attributes once per ``get_queue_attributes``; ``DomainDispatcherApplication`` caching
``get_backend_for_host`` (or ``list_of_moto_modules``); ``EventTemplateParser.parse`` reusing compiled
JSONPaths. Each can then go from ``_replacements``; with all three, delete this module and its call in
``emulator.py``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

logger = logging.getLogger("supportflow.local")

# [low, high): the patched functions compared in 5.2.0, 5.2.3 and 5.2.5 (sqs/models.py, events/utils.py,
# moto_server/werkzeug_app.py)
SUPPORTED = ((5, 2, 0), (5, 3, 0))

MAX_HOSTS_REMEMBERED = 1024

_state = threading.local()
_originals: dict[tuple[type, str], Any] = {}
_lock = threading.Lock()


def moto_version() -> tuple[int, ...]:
    """The installed moto's version as a tuple of its leading integers."""
    parts = []
    for piece in version("moto").split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def applicable() -> bool:
    """True if the installed moto is one this patch was checked against."""
    low, high = SUPPORTED
    return low <= moto_version() < high


def is_applied() -> bool:
    """True while the patch is in place."""
    return bool(_originals)


def apply() -> bool:
    """Patch moto's SQS models in this process; a warning and no change outside ``SUPPORTED``."""
    if not applicable():
        logger.warning("moto sqs patch skipped: unsupported moto version", extra={"moto_version": version("moto")})
        return False
    with _lock:
        if _originals:
            return True
        for owner, name, replacement in _replacements():
            _originals[(owner, name)] = owner.__dict__[name]
            setattr(owner, name, replacement)
    logger.info("moto sqs patch applied", extra={"moto_version": version("moto")})
    return True


def remove() -> None:
    """Put moto's own SQS code back (benchmarks compare both in one run)."""
    with _lock:
        for (owner, name), original in _originals.items():
            setattr(owner, name, original)
        _originals.clear()


@contextmanager
def _counts_unused() -> Iterator[None]:
    previous = getattr(_state, "counts_unused", False)
    _state.counts_unused = True
    try:
        yield
    finally:
        _state.counts_unused = previous


def _replacements() -> list[tuple[type, str, Any]]:
    from moto.events.utils import EventTemplateParser  # noqa: PLC0415
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: PLC0415
    from moto.sqs.models import Queue, SQSBackend  # noqa: PLC0415 - moto imports slowly

    return [
        *_queue_replacements(Queue),
        *_backend_replacements(SQSBackend),
        *_attribute_snapshots(Queue, SQSBackend),
        *_dispatch_replacements(DomainDispatcherApplication),
        *_event_template_replacements(EventTemplateParser),
    ]


def _dispatch_replacements(dispatcher_class: type) -> list[tuple[type, str, Any]]:
    """Every request resolves its service under one lock: a listdir, ~150 stats and the URL regexes."""
    original: Callable[..., Any] = dispatcher_class.get_backend_for_host  # type: ignore[attr-defined]

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        # A function of the host alone: moto's module list and URL patterns are fixed for the process.
        known: dict[str | None, Any] = self.__dict__.setdefault("_backend_by_host", {})
        if host not in known:
            backend = original(self, host)
            if len(known) >= MAX_HOSTS_REMEMBERED:
                return backend
            known[host] = backend
        return known[host]

    return [(dispatcher_class, "get_backend_for_host", get_backend_for_host)]


def _event_template_replacements(parser_class: Any) -> list[tuple[type, str, Any]]:
    """EventBridge builds a JSONPath parser (ply yacc tables, ~1 ms) per path, 8 per event and target."""
    from jsonpath_ng.ext import parse as parse_jsonpath  # type: ignore[attr-defined]  # noqa: PLC0415

    @functools.lru_cache(maxsize=1024)
    def compiled(expression: str) -> Any:
        return parse_jsonpath(expression)

    def parse(input_template: str, input_paths_map: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        # moto's EventTemplateParser.parse, with each JSONPath compiled once.
        template = input_template or parser_class.DEFAULT_EVENT_INPUT_TEMPLATE
        paths = input_paths_map or parser_class.DEFAULT_EVENT_INPUT_PATHS_MAP
        for name in paths:
            matches = compiled(paths[name]).find(event)
            result = parser_class._stringify(matches[0].value) if matches else None
            if result:
                template = template.replace(f"<{name}>", result)
        defaults = {"aws.events.event.json": event, "aws.events.event.ingestion-time": event["ingestion-time"]}
        for name, value in defaults.items():
            template = template.replace(f"<{name}>", parser_class._stringify(value))
        return json.loads(template)  # type: ignore[no-any-return]

    return [(parser_class, "parse", staticmethod(parse))]


def _attribute_snapshots(queue_class: type, backend_class: type) -> list[tuple[type, str, Any]]:
    """GetQueueAttributes builds ``Queue.attributes`` once per call instead of 1 + 2 per name asked."""
    original_attributes = queue_class.__dict__["attributes"].fget
    original_get: Callable[..., Any] = backend_class.get_queue_attributes  # type: ignore[attr-defined]

    def attributes(self: Any) -> dict[str, Any]:
        snapshots: dict[int, dict[str, Any]] | None = getattr(_state, "snapshots", None)
        if snapshots is None:
            return original_attributes(self)  # type: ignore[no-any-return]
        if id(self) not in snapshots:
            snapshots[id(self)] = original_attributes(self)
        return snapshots[id(self)]

    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> Any:
        _state.snapshots = {}
        try:
            return original_get(self, queue_name, attribute_names)
        finally:
            _state.snapshots = None

    return [
        (queue_class, "attributes", property(attributes)),
        (backend_class, "get_queue_attributes", get_queue_attributes),
    ]


def _counts_skipped() -> bool:
    return bool(getattr(_state, "counts_unused", False))


def _had_handle(message: Any, receipt_handle: str) -> bool:
    return bool(message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles)


def _queue_replacements(queue_class: type) -> list[tuple[type, str, Any]]:
    from moto.core.utils import unix_time_millis  # noqa: PLC0415
    from moto.sqs.exceptions import ReceiptHandleIsInvalid  # noqa: PLC0415

    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed_count(self: Any) -> int:
        if _counts_skipped():
            return 0
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible_count(self: Any) -> int:
        if _counts_skipped():
            return 0
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    def visible_count(self: Any) -> int:
        return 0 if _counts_skipped() else len(messages(self))

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # already deleted: as moto, deleting again is not an error
        # Receipt handles are unique, so the first match is the only one; consumers delete the oldest
        # messages, near the front. Removing in place also keeps a send racing this delete.
        message = next((m for m in self._messages if _had_handle(m, receipt_handle)), None)
        if message is None:
            raise ReceiptHandleIsInvalid
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)
        with contextlib.suppress(ValueError):  # a concurrent delete of the same message got there first
            self._messages.remove(message)

    return [
        (queue_class, "messages", property(messages)),
        (queue_class, "approximate_number_of_messages", property(visible_count)),
        (queue_class, "approximate_number_of_messages_delayed", property(delayed_count)),
        (queue_class, "approximate_number_of_messages_not_visible", property(not_visible_count)),
        (queue_class, "delete_message", delete_message),
    ]


def _backend_replacements(backend_class: type) -> list[tuple[type, str, Any]]:
    from moto.core.utils import unix_time  # noqa: PLC0415

    original_send: Callable[..., Any] = backend_class.send_message  # type: ignore[attr-defined]

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Only ContentBasedDeduplication is read from the attributes during a send: skip the counts.
        with _counts_unused():
            return original_send(self, *args, **kwargs)

    def retention_valid(self: Any, queue_name: str, message: Any) -> bool:
        # moto reads this through get_queue_attributes, which rebuilds every attribute three times.
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    return [
        (backend_class, "send_message", send_message),
        (backend_class, "is_message_valid_based_on_retention_period", retention_valid),
    ]
