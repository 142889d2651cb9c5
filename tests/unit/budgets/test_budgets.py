"""Token budgets: reserve before, settle after, never overspend; the fake and the DynamoDB adapter alike."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from workers.shared.budgets import (
    BudgetExhausted,
    BudgetLimits,
    BudgetStore,
    DynamoDBBudgetStore,
    InMemoryBudgetStore,
    TokenBudget,
)

LIMITS = BudgetLimits(daily=1_000, monthly=5_000)
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[BudgetStore]:
    """The fake, and the DynamoDB adapter on moto's in-process DynamoDB."""
    if request.param == "memory":
        yield InMemoryBudgetStore()
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="budgets",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        yield DynamoDBBudgetStore("budgets", client=client)


def test_a_reservation_then_settlement_leaves_the_actual_usage_counted(store: BudgetStore) -> None:
    # Given a tenant with a fresh budget
    budget = TokenBudget(store, clock=lambda: NOON)
    # When 400 tokens are reserved and the call used 250
    reservation = budget.reserve("acme", 400, LIMITS)
    remaining = budget.settle(reservation, 250)
    # Then 250 are counted against the day and the month
    assert (remaining.daily, remaining.monthly) == (750, 4_750)
    assert budget.remaining("acme", LIMITS) == remaining
    assert remaining.headers() == {"X-Budget-Remaining-Daily": "750", "X-Budget-Remaining-Monthly": "4750"}


def test_a_reservation_past_the_daily_limit_is_refused_and_changes_nothing(store: BudgetStore) -> None:
    # Given a tenant with 900 of 1000 daily tokens used
    budget = TokenBudget(store, clock=lambda: NOON)
    budget.settle(budget.reserve("acme", 900, LIMITS), 900)
    # When 200 more are asked for
    with pytest.raises(BudgetExhausted) as refused:
        budget.reserve("acme", 200, LIMITS)
    # Then it is the daily budget that refused, and nothing was added
    assert refused.value.period == "daily"
    assert budget.remaining("acme", LIMITS).daily == 100


def test_the_monthly_limit_refuses_even_when_the_day_is_fresh(store: BudgetStore) -> None:
    # Given a month nearly spent on earlier days
    for day in range(1, 6):
        earlier = TokenBudget(store, clock=functools.partial(datetime, 2026, 11, day, tzinfo=UTC))
        earlier.settle(earlier.reserve("acme", 990, LIMITS), 990)
    today = TokenBudget(store, clock=lambda: NOON)
    # When today asks for 100 (the day has room, the month has 50)
    with pytest.raises(BudgetExhausted) as refused:
        today.reserve("acme", 100, LIMITS)
    # Then the month refuses and check() says the same once it is spent
    assert refused.value.period == "monthly"
    today.settle(today.reserve("acme", 50, LIMITS), 50)
    with pytest.raises(BudgetExhausted):
        today.check("acme", LIMITS)


def test_tenants_are_counted_apart(store: BudgetStore) -> None:
    # Given one tenant that spent its whole day
    budget = TokenBudget(store, clock=lambda: NOON)
    budget.settle(budget.reserve("acme", 1_000, LIMITS), 1_000)
    # When another tenant checks, Then it still has its whole budget
    assert budget.check("globex", LIMITS).daily == 1_000
    with pytest.raises(BudgetExhausted):
        budget.check("acme", LIMITS)


def test_concurrent_reservations_near_the_limit_cannot_both_pass(store: BudgetStore) -> None:
    # Given 400 tokens left today
    budget = TokenBudget(store, clock=lambda: NOON)
    budget.settle(budget.reserve("acme", 600, LIMITS), 600)
    outcomes: list[str] = []
    lock = threading.Lock()

    def reserve() -> None:
        try:
            budget.reserve("acme", 300, LIMITS)
            result = "reserved"
        except BudgetExhausted:
            result = "refused"
        with lock:
            outcomes.append(result)

    # When eight calls each reserve 300 at once
    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one fits and the day is never overspent
    assert sorted(outcomes) == ["refused"] * 7 + ["reserved"]
    assert budget.remaining("acme", LIMITS).daily == 100


def test_a_released_reservation_gives_every_token_back(store: BudgetStore) -> None:
    # Given a reservation whose model call never happened
    budget = TokenBudget(store, clock=lambda: NOON)
    reservation = budget.reserve("acme", 700, LIMITS)
    # When released, Then the budget is whole again
    assert budget.release(reservation).daily == 1_000
