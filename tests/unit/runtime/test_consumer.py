"""The consumer without an emulator: graceful SIGTERM, failures logged by type and field, its command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import BaseModel, ValidationError

from tests.unit.runtime.fakes import QUEUE_ARN, QUEUE_URL, FakeSqs, sqs_message
from workers.shared.runtime.consumer import ConsumerConfig, QueueConsumer
from workers.shared.runtime.logs import JsonFormatter

FAKE_EMAIL = "dana.secret@example.com"


class Contact(BaseModel):
    """A model whose rejection echoes the input in pydantic's message."""

    customer_id: int


@pytest.fixture
def restore_signals() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _consumer(sqs: FakeSqs, handler: Any, **options: Any) -> QueueConsumer:
    config = ConsumerConfig(queue_url=QUEUE_URL, handler="tests.handler", wait_time_seconds=0, **options)
    return QueueConsumer(config, handler, cast(Any, sqs))


def _log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter(service="test")
    return [formatter.format(record) for record in caplog.records]


def test_sigterm_finishes_the_batch_in_hand_and_leaves_the_rest(restore_signals: None) -> None:
    # Given a queue holding two batches, and a handler that receives SIGTERM while it works on the first
    first, second = [sqs_message("a", "1"), sqs_message("b", "2")], [sqs_message("c", "3")]
    sqs = FakeSqs([first, second])
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGTERM)
        seen.append([record["messageId"] for record in event["Records"]])
        return {"batchItemFailures": []}

    consumer = _consumer(sqs, handler, report_batch_item_failures=True, event_source_arn=QUEUE_ARN)
    consumer.install_signal_handlers()
    # When it runs
    consumer.run()
    # Then the first batch was finished and deleted, and the second never taken off the queue
    assert seen == [["a", "b"]]
    assert sqs.deleted == ["rh-a", "rh-b"]
    assert sqs.receives == 1
    assert list(sqs.batches) == [second]


def test_a_raising_handler_is_logged_by_type_and_field_never_with_the_input(caplog: pytest.LogCaptureFixture) -> None:
    # Given a poison record holding an e-mail address where a number belongs, and a handler that validates it
    sqs = FakeSqs([[sqs_message("p", json.dumps({"customer_id": FAKE_EMAIL}))]])

    def handler(event: dict[str, Any], _context: Any) -> None:
        Contact.model_validate_json(event["Records"][0]["body"])

    consumer = _consumer(sqs, handler, report_batch_item_failures=True, event_source_arn=QUEUE_ARN)
    # When the consumer invokes it and the handler raises (pydantic's message echoes the input)
    with pytest.raises(ValidationError, match=FAKE_EMAIL):
        handler({"Records": [{"body": sqs.batches[0][0]["Body"]}]}, None)
    with caplog.at_level(logging.INFO, logger="supportflow.consumer"):
        consumer.poll_once()
    # Then the batch stays on the queue, and the log names the type and the field but not the address
    assert sqs.deleted == []
    lines = _log_lines(caplog)
    failure = next(json.loads(line) for line in lines if "handler raised" in line)
    assert failure["error_type"] == "pydantic_core._pydantic_core.ValidationError"
    assert failure["invalid_fields"] == ["customer_id: int_parsing"]
    assert not [line for line in lines if FAKE_EMAIL in line]


def test_a_logged_traceback_carries_type_and_frames_not_the_message() -> None:
    # Given a validation error whose message echoes an e-mail address
    try:
        Contact.model_validate({"customer_id": FAKE_EMAIL})
    except ValidationError:
        record = logging.getLogger("test").makeRecord("test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    # When it is formatted as a JSON log line
    line = JsonFormatter().format(record)
    # Then the exception is named and located, and the address is not there
    payload = json.loads(line)
    assert payload["exception"]["error_type"] == "pydantic_core._pydantic_core.ValidationError"
    assert any(__file__ in frame for frame in payload["exception"]["where"])
    assert FAKE_EMAIL not in line


@pytest.mark.parametrize(
    "config",
    [
        ConsumerConfig(queue_url=QUEUE_URL, handler="workers.intake.handler.lambda_handler"),
        ConsumerConfig(
            queue_url=QUEUE_URL,
            handler="h.f",
            function_name="intake",
            function_arn="arn:aws:lambda:us-east-1:1:function:intake",
            event_source_arn=QUEUE_ARN,
            batch_size=7,
            batching_window_seconds=1.5,
            report_batch_item_failures=True,
            timeout_seconds=45,
            memory_mb=512,
            wait_time_seconds=2,
            retry_delay_seconds=1,
            receive_visibility_seconds=3,
            event_shape="eventbridge",
            ready_file=Path("/tmp/ready"),
            parent_pid=42,
        ),
    ],
    ids=["defaults", "every-option"],
)
def test_command_line_reads_back_as_the_same_config(config: ConsumerConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an environment that would turn partial batch failures on by default
    monkeypatch.setenv("CONSUMER_REPORT_BATCH_ITEM_FAILURES", "true")
    # When a config is written as a command line and parsed back
    command = config.command_line(python="python3")
    # Then it runs the runtime's entry module and is the same config
    assert command[:3] == ["python3", "-m", "workers.shared.runtime.consumer"]
    assert ConsumerConfig.from_argv(command[3:]) == config
