"""Approvals worker: stores an escalation's approval task token server-side and asks the agents."""
