"""docs/architecture.md and statemachines/README.md keep up with template.yaml, and cite only the repo.

Every function, rule, schedule, state machine, topic, table and API of the template must be named in
the architecture page, so a template change that the page does not describe fails here; the page's
claims about queues (a DLQ each, an alarm on each DLQ) are checked against the template too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from supportflow.local.foreach import expand_language_extensions
from supportflow.local.template import effective_parameters

ROOT = Path(__file__).resolve().parents[3]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
STATEMACHINES_README = ROOT / "statemachines" / "README.md"

NAMED_TYPES = {
    "AWS::Serverless::Function",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::Serverless::StateMachine",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::Serverless::Api",
    "AWS::ApiGatewayV2::Api",
}
# Events of a function or state machine that SAM turns into an EventBridge rule or a schedule.
RULE_EVENT_TYPES = {"EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2"}


@cache
def _resources() -> dict[str, dict[str, Any]]:
    """The template's resources with its Fn::ForEach loops unrolled (as CloudFormation does first)."""
    source = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    expanded = expand_language_extensions(source, effective_parameters(source, {}))
    return dict(expanded["Resources"])


def _of_type(*types: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in _resources().items() if body["Type"] in types}


def _named_pieces() -> Iterator[str]:
    """Logical ids the page must name: the NAMED_TYPES resources and the rules SAM makes from events."""
    for name, body in _resources().items():
        if body["Type"] in NAMED_TYPES:
            yield name
        events = (body.get("Properties") or {}).get("Events") or {}
        yield from (event for event, spec in events.items() if spec.get("Type") in RULE_EVENT_TYPES)


def _names(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]*", text))


def _arn_target(value: Any) -> str | None:
    """The logical id behind ``!GetAtt X.Arn``."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def _dead_letter_queues() -> set[str]:
    """Queues that something (a queue's redrive policy, a rule target, an event) dead-letters into."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "deadLetterTargetArn" or (key == "DeadLetterConfig" and isinstance(value, dict)):
                    target = _arn_target(value if key == "deadLetterTargetArn" else value.get("Arn"))
                    if target:
                        found.add(target)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(_resources())
    return found


def test_every_function_rule_state_machine_topic_table_and_api_of_the_template_is_named() -> None:
    # Given the pieces template.yaml declares and the architecture page
    named = _names(ARCHITECTURE.read_text(encoding="utf-8"))
    # When each is looked up by its logical id
    missing = sorted(piece for piece in _named_pieces() if piece not in named)
    # Then none is missing
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_every_worker_folder_is_named() -> None:
    # Given the worker folders (and the shared code they use)
    text = ARCHITECTURE.read_text(encoding="utf-8")
    folders = sorted(p.name for p in (ROOT / "workers").iterdir() if (p / "__init__.py").is_file())
    # When each is looked up as a path
    missing = [folder for folder in folders if f"workers/{folder}" not in text]
    # Then the page names every one
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


@pytest.mark.parametrize("page", [ARCHITECTURE, STATEMACHINES_README], ids=lambda p: p.name)
def test_a_page_cites_nothing_outside_the_repo(page: Path) -> None:
    # Given the page's relative links
    text = page.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    relative = [link for link in links if "://" not in link]
    # When each is resolved from the page's folder
    outside = [link for link in relative if ROOT not in (page.parent / link).resolve().parents]
    broken = [link for link in relative if not (page.parent / link).exists()]
    # Then every link stays in the repo and exists, and no note outside it is cited
    assert not outside
    assert not broken
    assert "../shared" not in text
    assert "shared architecture" not in text.lower()


def test_every_state_machine_definition_is_described_in_its_readme() -> None:
    # Given the ASL files and the state machines that use them
    text = STATEMACHINES_README.read_text(encoding="utf-8")
    definitions = sorted(p.name for p in (ROOT / "statemachines").glob("*.asl.json"))
    machines = sorted(_of_type("AWS::Serverless::StateMachine"))
    # When each is looked up in statemachines/README.md
    missing = [name for name in definitions + machines if name not in text]
    # Then each has its section
    assert not missing, f"statemachines/README.md does not describe: {', '.join(missing)}"


def test_every_queue_has_a_dead_letter_queue_and_every_dead_letter_queue_an_alarm() -> None:
    # Given the template's queues, the queues something dead-letters into, and the alarms
    queues = _of_type("AWS::SQS::Queue")
    dead_letter = _dead_letter_queues()
    alarmed = {
        _arn_target({"Fn::GetAtt": dimension["Value"]["Fn::GetAtt"]})
        for alarm in _of_type("AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions") or []
        if dimension.get("Name") == "QueueName" and isinstance(dimension.get("Value"), dict)
    }
    # When the worker queues (not dead-letter queues) are checked for a redrive policy
    without_dlq = sorted(
        name for name, body in queues.items() if name not in dead_letter and "RedrivePolicy" not in body["Properties"]
    )
    # Then each worker queue has one, and each dead-letter queue has an alarm, as the page says
    assert not without_dlq
    assert dead_letter <= set(queues)
    assert not sorted(dead_letter - alarmed)
