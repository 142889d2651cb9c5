"""The enrichment state machine of statemachines/ driven in the session's local stack, one catalog per test.

Each test gets its own catalog table, task queue, worker (the real handler, with the test's batch minimum)
and state machine (the real definition, short timeouts); the deployed completion worker and runs table
answer its batch jobs, as they would on AWS. The offline Bedrock's batch minimum is lowered to match.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from supportflow.local import EmulatedStack
from supportflow.local.observe import ReceivedMessage, take_messages
from workers.enrichment.adapters import DynamoCatalog
from workers.enrichment.models import CatalogItem

ROOT = Path(__file__).resolve().parents[3]
DEFINITION = ROOT / "statemachines" / "enrichment.asl.json"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
BATCH_MINIMUM = 5


@dataclass
class EnrichmentRig:
    """One test's catalog, worker, state machine and bus watch."""

    stack: EmulatedStack
    catalog: DynamoCatalog
    table: str
    machine_arn: str
    watch_url: str

    def seed(self, items: list[CatalogItem]) -> None:
        """Put ``items`` in the test's catalog."""
        self.catalog.put_items(items)

    def start(self, run_id: str) -> str:
        """Start a run as the schedule (or ``supportflow enrich --now``) does; its execution ARN."""
        started = self.stack.clients.stepfunctions.start_execution(
            stateMachineArn=self.machine_arn,
            name=run_id,
            input=json.dumps({"run": {"run_id": run_id, "correlation_id": run_id}}),
        )
        return str(started["executionArn"])

    def finished(self, execution_arn: str, timeout: float = 90.0) -> dict[str, Any]:
        """The execution once it ended."""
        deadline = time.monotonic() + timeout
        while True:
            described = self.stack.clients.stepfunctions.describe_execution(executionArn=execution_arn)
            if described["status"] in TERMINAL or time.monotonic() > deadline:
                return dict(described)
            time.sleep(0.5)

    def enriched_event(self, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The run's ``CatalogEnriched`` detail, as seen on the bus."""

        def match(message: ReceivedMessage) -> bool:
            return bool(message.json.get("detail", {}).get("run_id") == run_id)

        found = take_messages(self.stack.clients.sqs, self.watch_url, match, expected=1, timeout=timeout)
        assert found, f"no CatalogEnriched for {run_id}"
        return dict(found[0].json["detail"])

    def states_entered(self, execution_arn: str) -> list[str]:
        """The states the execution went through, in order."""
        events = self.stack.clients.stepfunctions.get_execution_history(executionArn=execution_arn, maxResults=1000)
        return [e["stateEnteredEventDetails"]["name"] for e in events["events"] if e.get("stateEnteredEventDetails")]


def _watch(stack: EmulatedStack, name: str) -> str:
    clients = stack.clients
    queue_url = clients.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.physical_id("EventBus")
    clients.events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"detail-type": ["CatalogEnriched"]}))
    clients.events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "watch", "Arn": arn}])
    return str(queue_url)


@pytest.fixture
def rig(local_stack: EmulatedStack, request: pytest.FixtureRequest) -> Iterator[EnrichmentRig]:
    """A fresh catalog and the enrichment machinery around it; ``event_timeout`` via indirect param."""
    event_timeout = int(getattr(request, "param", 60))
    suffix = uuid.uuid4().hex[:8]
    clients = local_stack.clients
    table = f"catalog-{suffix}"
    clients.dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "item_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "item_id", "KeyType": "HASH"}],
    )
    queue_url = clients.sqs.create_queue(QueueName=f"enrichment-task-{suffix}")["QueueUrl"]
    function = local_stack.functions["EnrichmentTaskFunction"]
    environment = {**function.environment, "CATALOG_TABLE_NAME": table, "BATCH_MINIMUM_RECORDS": str(BATCH_MINIMUM)}
    key = f"enrichment-{suffix}"
    local_stack.start_consumer(
        key, queue_url, function.handler, environment=environment, batch_size=1, timeout_seconds=120
    )
    definition = DEFINITION.read_text(encoding="utf-8")
    substitutions = {
        "EnrichmentTaskQueueUrl": queue_url,
        "CompletionEventTimeoutSeconds": str(event_timeout),
        "PollIntervalSeconds": "1",
        "TaskTimeoutSeconds": "120",
    }
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", value)
    machine_arn = clients.stepfunctions.create_state_machine(
        name=f"enrichment-test-{suffix}",
        definition=definition,
        roleArn=local_stack.attribute("EnrichmentStateMachineRole", "Arn"),
    )["stateMachineArn"]
    bedrock = local_stack.bedrock
    previous_minimum = bedrock.jobs.batch_min_records
    bedrock.jobs.batch_min_records = BATCH_MINIMUM
    try:
        yield EnrichmentRig(
            local_stack, DynamoCatalog(table, clients.dynamodb), table, machine_arn, _watch(local_stack, key)
        )
    finally:
        bedrock.jobs.batch_min_records = previous_minimum
        bedrock.deliver_job_events()
        local_stack.stop_consumer(key)
