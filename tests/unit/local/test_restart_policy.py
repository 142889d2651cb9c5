"""The supervisor's restart back-off: exponential, capped."""

from __future__ import annotations

from supportflow.local.supervisor import RestartPolicy


def test_restart_delay_doubles_from_the_initial_delay_up_to_the_cap() -> None:
    # Given a policy starting at 0.5 s, capped at 4 s
    policy = RestartPolicy(initial_delay_seconds=0.5, max_delay_seconds=4.0)
    # When a worker dies again and again, Then each wait doubles until the cap
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
