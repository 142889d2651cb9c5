"""The worker runtime: one Lambda handler builder and the long-polling consumer that runs it on ECS."""
