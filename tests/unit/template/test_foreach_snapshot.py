"""template.yaml's loops render exactly the resources the explicit template had (snapshot taken before the rewrite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from supportflow.local.template import load_template

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOT = Path(__file__).with_name("translated_snapshot.json")


# Properties deliberately changed since the snapshot, each with its reason; anything else must render the same.
INTENDED_CHANGES: dict[str, dict[str, str]] = {
    "IntakeFunctionIntakeQueueEvent": {
        "ScalingConfig": "a concurrency cap instead of reserved concurrency (checkov CKV_AWS_115)",
        "Enabled": "off while intake runs on ECS (EcsWorkers), so the two never both consume",
    },
}


def _rendered() -> dict[str, Any]:
    template = load_template(ROOT / "template.yaml")
    rendered: dict[str, Any] = json.loads(json.dumps({"Resources": template.resources, "Outputs": template.outputs}))
    return rendered


def _deployed_part(logical_id: str, body: Any) -> Any:
    """What CloudFormation deploys of a resource: Metadata (scanner skips, build hints) deploys nothing."""
    if not isinstance(body, dict):
        return body
    kept = {key: value for key, value in body.items() if key != "Metadata"}
    intended = INTENDED_CHANGES.get(logical_id, {})
    if intended and isinstance(kept.get("Properties"), dict):
        kept["Properties"] = {key: value for key, value in kept["Properties"].items() if key not in intended}
    return kept


def test_every_snapshot_resource_renders_with_the_same_logical_id_and_properties() -> None:
    # Given the explicit template's translation, stored before its repeated blocks became Fn::ForEach
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    # When today's template is expanded and translated with its default parameters
    rendered = _rendered()
    # Then every resource and output of the snapshot is still there, under the same id, deploying the same
    # (resources added since are allowed: they replace nothing in a deployed stack)
    changed = sorted(
        f"{section}.{logical_id}"
        for section in ("Resources", "Outputs")
        for logical_id, body in snapshot[section].items()
        if _deployed_part(logical_id, rendered[section].get(logical_id)) != _deployed_part(logical_id, body)
    )
    assert not changed, f"rendered differently from the snapshot (a deployed stack would update these): {changed}"


def test_an_unlisted_property_change_is_caught() -> None:
    # Given a rendered queue whose visibility timeout drifted from the snapshot
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["Resources"]
    drifted = json.loads(json.dumps(snapshot["HighPriorityQueue"]))
    drifted["Properties"]["VisibilityTimeout"] = 1
    # Then the comparison sees it (it ignores only Metadata and the listed intended changes)
    assert _deployed_part("HighPriorityQueue", drifted) != _deployed_part(
        "HighPriorityQueue", snapshot["HighPriorityQueue"]
    )


def test_the_snapshot_holds_the_looped_resources() -> None:
    # Given the snapshot, Then it covers what the loops now produce (so the comparison above means something)
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["Resources"]
    looped = [
        f"{priority}Priority{suffix}"
        for priority in ("High", "Normal", "Low")
        for suffix in ("Queue", "DeadLetterQueue", "TicketRule", "DeadLetterQueueAlarm")
    ]
    assert set(looped) <= set(snapshot)
    assert {"IntakeDeadLetterQueueAlarm", "EventDeliveryDeadLetterQueueAlarm"} <= set(snapshot)


def test_the_template_source_writes_the_repeated_blocks_once() -> None:
    # Given template.yaml as written, Then the priority queues and the DLQ alarms are loops, not copies
    source = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "Fn::ForEach::PriorityQueues" in source
    assert "Fn::ForEach::DeadLetterQueueAlarms" in source
    assert "HighPriorityQueue:" not in source
