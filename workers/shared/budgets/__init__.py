"""Per-tenant daily and monthly token budgets, shared by the REST API, the authorizer and the WebSocket chat."""

from workers.shared.budgets.budget import TokenBudget
from workers.shared.budgets.dynamodb import DynamoDBBudgetStore, counter_key
from workers.shared.budgets.fake import InMemoryBudgetStore
from workers.shared.budgets.ports import (
    BudgetExhausted,
    BudgetLimits,
    BudgetStore,
    Periods,
    Remaining,
    Reservation,
)

__all__ = [
    "BudgetExhausted",
    "BudgetLimits",
    "BudgetStore",
    "DynamoDBBudgetStore",
    "InMemoryBudgetStore",
    "Periods",
    "Remaining",
    "Reservation",
    "TokenBudget",
    "counter_key",
]
