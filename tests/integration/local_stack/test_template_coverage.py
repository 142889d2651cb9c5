"""Every resource of the translated template exists in the emulator, or is listed as not emulated with a reason."""

from __future__ import annotations

import pytest

from supportflow.local import NOT_EMULATED, EmulatedStack
from tests.integration.local_stack.verifiers import VERIFIERS

pytestmark = pytest.mark.integration


def assert_every_resource_created_or_not_emulated(stack: EmulatedStack) -> None:
    """Each translated resource is described in the emulator, listed as not emulated, or condition-false."""
    translated = stack.template.resources
    assert translated, "the translated template has resources"
    missing: list[str] = []
    for logical_id, body in translated.items():
        resource_type = body["Type"]
        info = stack.resources.get(logical_id)
        if info is not None and info.status == "not-emulated":
            assert NOT_EMULATED.get(resource_type), f"{logical_id}: not emulated without a reason"
            continue
        if info is not None and info.status == "condition-false":
            assert body.get("Condition"), f"{logical_id}: skipped without a condition"
            continue
        # Described through the emulator's own API, not trusted from the stack's table.
        verifier = VERIFIERS.get(resource_type)
        if info is None or info.physical_id is None or verifier is None:
            missing.append(f"{logical_id} ({resource_type})")
            continue
        verifier(stack, logical_id, info.physical_id, body.get("Properties") or {})
    assert not missing, f"neither created nor listed as not emulated: {missing}"


def test_every_translated_resource_is_created_or_listed_as_not_emulated(local_stack: EmulatedStack) -> None:
    # Given template.yaml as CloudFormation sees it after the SAM transform
    # Then each resource really exists in the emulator, or is listed as not emulated with a reason
    assert_every_resource_created_or_not_emulated(local_stack)


def test_outputs_resolve_to_created_resources(local_stack: EmulatedStack) -> None:
    # Given the template's outputs, Then each resolves to what the emulator holds
    outputs = local_stack.outputs
    assert outputs["EventBusName"] == local_stack.physical_id("EventBus")
    for key in ("IntakeQueueUrl", "HighPriorityQueueUrl", "NormalPriorityQueueUrl", "LowPriorityQueueUrl"):
        local_stack.clients.sqs.get_queue_attributes(QueueUrl=outputs[key], AttributeNames=["QueueArn"])
    local_stack.clients.sns.get_topic_attributes(TopicArn=outputs["OpsTopicArn"])


def test_unsupported_eventbridge_targets_are_bridged_and_said_so(local_stack: EmulatedStack) -> None:
    # Given the rule that targets SNS, Then its target is an SQS bridge queue that the stack lists
    if local_stack.emulator != "moto":
        pytest.skip("bridges replace only what moto cannot deliver")
    info = local_stack.resources["TicketRejectedRule"]
    assert info.status == "bridged"
    assert "bridged" in info.note
    (bridge,) = [b for b in local_stack.bridges if b.rule_logical_id == "TicketRejectedRule"]
    assert bridge.kind == "sns"
    assert bridge.target_arn == local_stack.physical_id("OpsTopic")
    local_stack.clients.sqs.get_queue_attributes(QueueUrl=bridge.queue_url, AttributeNames=["QueueArn"])
