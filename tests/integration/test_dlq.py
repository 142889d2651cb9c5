"""``supportflow dlq`` against the local stack: a poison message is listed, shown, and redriven to its source."""

from __future__ import annotations

import json

import pytest

from supportflow import dlq
from supportflow.cli import main
from supportflow.local import EmulatedStack
from supportflow.local.observe import take_messages

pytestmark = pytest.mark.integration


def test_a_poison_message_is_listed_shown_and_redriven_to_its_source_queue(
    local_stack: EmulatedStack, unique_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = local_stack.clients.sqs
    endpoint = ["--endpoint-url", local_stack.endpoint_url, "--stage", local_stack.stage]
    dead_letter_url = local_stack.physical_id("SentimentDeadLetterQueue")
    dead_letter_name = dead_letter_url.rsplit("/", 1)[-1]
    source = local_stack.physical_id("SentimentQueue")
    with local_stack.paused("SentimentFunction"):
        # Given a message in the sentiment DLQ (a bus event no worker could read), its worker paused
        body = {"detail-type": "TicketAccepted", "detail": {"event_id": f"ev-{unique_id}", "ticket_id": unique_id}}
        sent = sqs.send_message(QueueUrl=dead_letter_url, MessageBody=json.dumps(body))

        # When the DLQs are listed, Then the sentiment DLQ shows it, with its source queue
        assert main(["dlq", "list", *endpoint]) == 0
        listing = capsys.readouterr().out
        line = next(row for row in listing.splitlines() if row.startswith(dead_letter_name))
        assert int(line.split()[1]) >= 1
        assert source.rsplit("/", 1)[-1] in line

        # When it is shown, Then its ids and detail-type are there and its body is not
        assert main(["dlq", "show", dead_letter_name, *endpoint]) == 0
        shown = capsys.readouterr().out
        assert sent["MessageId"] in shown
        assert f"ticket_id={unique_id}" in shown
        assert "TicketAccepted" in shown
        assert "body:" not in shown

        # When a dry run is asked, Then nothing moves
        assert main(["dlq", "redrive", dead_letter_name, "--dry-run", *endpoint]) == 0
        assert "would move" in capsys.readouterr().out
        queues = dlq.dead_letter_queues(dlq.local_queues(sqs, local_stack.stage))
        assert any(
            letter.message_id == sent["MessageId"] for letter in dlq.peek(sqs, dlq.find(queues, dead_letter_name).queue)
        )

        # When it is redriven, Then it is on the sentiment queue and no longer in the DLQ
        assert main(["dlq", "redrive", dead_letter_name, *endpoint]) == 0
        assert "moved" in capsys.readouterr().out
        mine = lambda m: isinstance(m.json, dict) and m.json.get("detail", {}).get("ticket_id") == unique_id  # noqa: E731
        assert len(take_messages(sqs, source, mine, expected=1, timeout=5)) == 1
        assert take_messages(sqs, dead_letter_url, mine, expected=1, timeout=0) == []


def test_an_unknown_queue_is_refused_with_the_dlqs_named(local_stack: EmulatedStack) -> None:
    # Given the local stack's DLQs, When a queue that is not one is asked for, Then the error names them
    queues = dlq.dead_letter_queues(dlq.local_queues(local_stack.clients.sqs, local_stack.stage))
    with pytest.raises(dlq.DlqError, match="sentiment-dlq"):
        dlq.find(queues, "NoSuchQueue")
