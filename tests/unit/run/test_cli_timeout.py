"""The run's default wait grows with its size: a bigger run is not cut short and reported as lost."""

from __future__ import annotations

from supportflow.cli import run_timeout


def test_the_default_run_waits_two_minutes() -> None:
    assert run_timeout(36) == 120.0


def test_a_bigger_run_waits_longer_in_proportion() -> None:
    # Given 300 tickets, Then the wait grows by 2 s for each ticket beyond the default 36
    assert run_timeout(300) == 120.0 + 2.0 * 264
    assert run_timeout(10) == 120.0
