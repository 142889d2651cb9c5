"""The function runtime: an app built once per handler object, passed with each event to the function's logic."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings

from tests.unit.fakes import FakeLambdaContext
from workers.shared.runtime.function import function_worker
from workers.shared.runtime.once import WorkerMisconfigured


class Tally:
    """An app with state, so a rebuilt app would show."""

    def __init__(self) -> None:
        self.seen: list[str] = []


def record(app: Tally, event: dict[str, Any]) -> dict[str, Any]:
    """The function's logic: note the event's name, answer how many it has seen."""
    app.seen.append(str(event["name"]))
    return {"statusCode": 200, "seen": len(app.seen)}


def test_the_app_is_built_once_and_each_event_reaches_the_logic_with_it() -> None:
    # Given a handler whose wiring counts its builds
    builds: list[Tally] = []

    def build() -> Tally:
        builds.append(Tally())
        return builds[-1]

    handler = function_worker(build, record, service="test")
    # When three events arrive
    answers = [handler({"name": name}, FakeLambdaContext()) for name in ("a", "b", "c")]
    # Then one app saw them all, in order, and the logic's answers came back
    assert [answer["seen"] for answer in answers] == [1, 2, 3]
    assert len(builds) == 1 and builds[0].seen == ["a", "b", "c"]


def test_two_handlers_hold_two_apps() -> None:
    # Given two handlers of the same wiring, When each gets an event
    first, second = function_worker(Tally, record), function_worker(Tally, record)
    first({"name": "a"}, FakeLambdaContext())
    second({"name": "b"}, FakeLambdaContext())
    # Then neither saw the other's event: nothing is shared through a module
    assert first.app().seen == ["a"] and second.app().seen == ["b"]


def test_threads_asking_at_once_share_one_build() -> None:
    # Given a build that is slow enough for threads to overlap
    builds: list[Tally] = []
    gate = threading.Event()

    def build() -> Tally:
        gate.wait(1)
        builds.append(Tally())
        return builds[-1]

    handler = function_worker(build, record)
    threads = [threading.Thread(target=handler, args=({"name": str(n)}, FakeLambdaContext())) for n in range(4)]
    # When four invocations start together
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    # Then one build served all four
    assert len(builds) == 1 and sorted(builds[0].seen) == ["0", "1", "2", "3"]


def test_missing_settings_name_the_field_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given wiring whose settings lack a variable
    class Settings(BaseSettings):
        tenants_table_name: str = Field(min_length=1)

    monkeypatch.delenv("TENANTS_TABLE_NAME", raising=False)
    handler = function_worker(lambda: (Settings(), Tally())[1], record)
    # When an event arrives, Then the failure names the field
    with pytest.raises(WorkerMisconfigured, match="tenants_table_name"):
        handler({"name": "a"}, FakeLambdaContext())
