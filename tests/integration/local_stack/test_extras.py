"""Resource types, intrinsics and bridges beyond today's template.yaml, on a second stack in the same emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from supportflow.local import EmulatedStack
from supportflow.local.observe import put_bus_event, take_messages
from tests.integration.local_stack.test_template_coverage import assert_every_resource_created_or_not_emulated

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).parent / "templates" / "extras.yaml"


@pytest.fixture(scope="module")
def extras_stack() -> Iterator[EmulatedStack]:
    """A worker-less stack of templates/extras.yaml (shares the process's emulator with ``local_stack``)."""
    with EmulatedStack.start(
        template=TEMPLATE, stage=f"x{uuid.uuid4().hex[:6]}", workers=False, bedrock=False
    ) as stack:
        yield stack


def test_every_resource_is_created_not_emulated_or_condition_false(extras_stack: EmulatedStack) -> None:
    # Given a SAM template with a state machine, bucket, schedule, alarm, log group, permission, conditions
    # Then every translated resource is accounted for in the emulator
    assert_every_resource_created_or_not_emulated(extras_stack)
    assert extras_stack.resources["NeverCreated"].status == "condition-false"
    assert extras_stack.resources["InvokePermission"].status == "not-emulated"
    assert extras_stack.resources["DlqAlarm"].status == "created"


def test_intrinsics_and_outputs_resolve(extras_stack: EmulatedStack) -> None:
    # Then Fn::Join, Fn::Sub with a map, pseudo parameters and Ref of a state machine resolve
    stage = extras_stack.stage
    assert extras_stack.physical_id("FlowRanQueue").endswith(f"/extras-{stage}-flow-ran")
    assert extras_stack.physical_id("UploadsQueue").endswith(f"/extras-{stage}-uploads")
    assert extras_stack.outputs["StackRegion"] == f"{extras_stack.region}/supportflow-{stage}/aws/amazonaws.com"
    assert extras_stack.outputs["FlowArn"] == extras_stack.attribute("Flow", "Arn")
    alarm = extras_stack.client("cloudwatch").describe_alarms(AlarmNames=[f"extras-{stage}-dlq"])["MetricAlarms"][0]
    assert alarm["AlarmDescription"] == "messages waiting"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": f"extras-{stage}-flow-ran"}]


def test_step_functions_target_is_delivered_and_the_execution_runs(extras_stack: EmulatedStack, unique_id: str) -> None:
    # Given a rule whose target is a state machine with InputPath $.detail: bridged on moto, which cannot
    # deliver to Step Functions; delivered natively by LocalStack
    bridged = extras_stack.emulator == "moto"
    assert extras_stack.resources["StartFlowRule"].status == ("bridged" if bridged else "created")
    # When a StartFlow event is put on the bus
    event_id = put_bus_event(
        extras_stack.clients.events,
        extras_stack.physical_id("Bus"),
        {"source": "tests", "detail-type": "StartFlow", "detail": {"ticket": unique_id}},
    )

    # Then the state machine runs (named after the event) and publishes FlowRan with the input it got
    def flow_ran(message: object) -> bool:
        body = getattr(message, "json", None)
        return isinstance(body, dict) and body.get("detail") == {"ticket": unique_id}

    (message,) = take_messages(extras_stack.clients.sqs, extras_stack.physical_id("FlowRanQueue"), flow_ran, timeout=20)
    assert message.json["detail-type"] == "FlowRan"
    executions = extras_stack.clients.stepfunctions.list_executions(stateMachineArn=extras_stack.physical_id("Flow"))
    assert executions["executions"]
    if bridged:  # the bridge names each execution after its event
        assert any(event_id in e["name"] for e in executions["executions"])


def test_bucket_notifications_reach_the_queue(extras_stack: EmulatedStack, unique_id: str) -> None:
    # When an object is put under the notified prefix
    key = f"in/{unique_id} report.csv"
    extras_stack.clients.s3.put_object(Bucket=extras_stack.physical_id("Uploads"), Key=key, Body=b"a,b\n")

    # Then its notification arrives on the queue (with the key URL-encoded, as S3 sends it)
    def mine(message: object) -> bool:
        body = getattr(message, "json", None)
        return isinstance(body, dict) and unique_id in json.dumps(body)

    (message,) = take_messages(extras_stack.clients.sqs, extras_stack.physical_id("UploadsQueue"), mine, timeout=10)
    record = message.json["Records"][0]
    assert record["eventName"].startswith("ObjectCreated")
    # moto also encodes "/" (AWS keeps it); unquote_plus reads both.
    assert unquote_plus(record["s3"]["object"]["key"]) == key


def test_schedule_is_stored_and_said_never_to_fire(extras_stack: EmulatedStack) -> None:
    # Then the schedule exists, and the stack says it will not fire
    assert "never fires" in extras_stack.resources["Nightly"].note
    schedule = extras_stack.clients.scheduler.get_schedule(Name=extras_stack.physical_id("Nightly"))
    assert schedule["Name"] == extras_stack.physical_id("Nightly")
