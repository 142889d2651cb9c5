"""``supportflow run``: realistic tickets through the local stack, every outcome awaited, a report.

``tickets`` generates them, ``runner`` submits and watches, ``chaos`` injects faults, ``ledger`` holds
what was seen and the report's arithmetic, ``report`` renders it.
"""

from supportflow.local.run.report import render, summarise
from supportflow.local.run.runner import Progress, RunResult, run_tickets
from supportflow.local.run.tickets import PlannedTicket, generate_tickets

__all__ = ["PlannedTicket", "Progress", "RunResult", "generate_tickets", "render", "run_tickets", "summarise"]
