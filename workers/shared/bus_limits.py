"""EventBridge's PutEvents entry size limit, computed the way AWS documents it."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.envelope import Event

# PutEvents refuses an entry over 256 KB (and a request whose entries add up to more).
MAX_ENTRY_BYTES = 256 * 1024
# Source is at most 256 characters; budgeting for the longest one keeps the check independent of it.
MAX_SOURCE_BYTES = 256
_TIME_BYTES = 14
# Room for what the documented formula leaves out (bus name, encoding differences between SDKs).
SAFETY_MARGIN_BYTES = 2 * 1024


class EntryTooLarge(ValueError):
    """An event would not fit in one PutEvents entry."""


def entry_size(detail: str, detail_type: str, source: str, resources: Sequence[str] = (), *, timed: bool = True) -> int:
    """Bytes of a PutEvents entry as AWS counts them: Time (14), Source, DetailType, Detail, Resources in UTF-8."""
    size = _TIME_BYTES if timed else 0
    size += len(source.encode("utf-8")) + len(detail_type.encode("utf-8")) + len(detail.encode("utf-8"))
    return size + sum(len(resource.encode("utf-8")) for resource in resources)


def event_entry_size(event: Event) -> int:
    """The entry size of ``event`` as any publisher would send it, counting the longest allowed Source."""
    return entry_size(event.model_dump_json(), event.detail_type, "", ()) + MAX_SOURCE_BYTES


def fits_on_bus(event: Event) -> bool:
    """True if ``event`` fits in one PutEvents entry, with margin."""
    return event_entry_size(event) <= MAX_ENTRY_BYTES - SAFETY_MARGIN_BYTES


def ensure_fits_on_bus(event: Event) -> None:
    """Raise ``EntryTooLarge`` (with the sizes, never the content) if ``event`` would not fit."""
    size = event_entry_size(event)
    if size > MAX_ENTRY_BYTES - SAFETY_MARGIN_BYTES:
        msg = f"{event.detail_type} is {size} bytes as a PutEvents entry; the limit is {MAX_ENTRY_BYTES} with margin"
        raise EntryTooLarge(msg)
