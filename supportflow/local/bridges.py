"""Forwarders for EventBridge targets moto cannot deliver to: SQS bridge queue → SNS / Step Functions."""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from supportflow.local.clients import Clients
from supportflow.local.resources import Bridge

logger = logging.getLogger("supportflow.local.bridge")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.$-]+)>")
_EXECUTION_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def json_path(document: Any, path: str) -> Any:
    """Evaluate the simple JSONPath EventBridge accepts in InputPath / InputPathsMap (``$.a.b``)."""
    if path in ("$", ""):
        return document
    current = document
    for part in path.removeprefix("$.").split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def target_payload(bridge: Bridge, event_json: str) -> str:
    """What EventBridge would deliver to the target: the event, or its Input / InputPath / InputTransformer."""
    if bridge.input is not None:
        return bridge.input
    event = json.loads(event_json)
    if bridge.input_path:
        return json.dumps(json_path(event, bridge.input_path))
    if bridge.input_transformer:
        values = {
            name: json_path(event, path) for name, path in (bridge.input_transformer.get("InputPathsMap") or {}).items()
        }
        values.setdefault("aws.events.event.json", event)

        def substitute(match: re.Match[str]) -> str:
            value = values.get(match.group(1))
            return value if isinstance(value, str) else json.dumps(value)

        return _PLACEHOLDER.sub(substitute, str(bridge.input_transformer.get("InputTemplate", "")))
    return event_json


class BridgeForwarder(threading.Thread):
    """Drain one bridge queue into the real target; failures stay on the queue and are retried."""

    def __init__(self, bridge: Bridge, clients: Clients, wait_seconds: int = 1) -> None:
        super().__init__(name=f"bridge-{bridge.rule_logical_id}-{bridge.target_id}", daemon=True)
        self.bridge = bridge
        self.clients = clients
        self.wait_seconds = wait_seconds
        self.forwarded = 0
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Stop after the current poll."""
        self._stop_event.set()

    def run(self) -> None:
        """Poll and forward until stopped."""
        sqs = self.clients.sqs
        while not self._stop_event.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self.bridge.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds
                ).get("Messages", [])
            except (ClientError, BotoCoreError) as error:
                if self._stop_event.is_set():
                    return
                logger.warning("bridge poll failed", extra={"bridge": self.name, "error": repr(error)})
                self._stop_event.wait(1.0)
                continue
            delivered: list[Any] = []
            for message in messages:
                try:
                    self.forward(message["Body"])
                except (ClientError, BotoCoreError) as error:
                    logger.warning(
                        "bridge delivery failed; will retry",
                        extra={"bridge": self.name, "target": self.bridge.target_arn, "error": repr(error)},
                    )
                    continue
                delivered.append({"Id": str(len(delivered)), "ReceiptHandle": message["ReceiptHandle"]})
            if delivered:
                sqs.delete_message_batch(QueueUrl=self.bridge.queue_url, Entries=delivered)
                self.forwarded += len(delivered)

    def forward(self, event_json: str) -> None:
        """Deliver one event to the bridged target."""
        payload = target_payload(self.bridge, event_json)
        if self.bridge.kind == "sns":
            self.clients.sns.publish(TopicArn=self.bridge.target_arn, Message=payload)
        elif self.bridge.kind == "states":
            self._start_execution(event_json, payload)
        else:
            msg = f"bridge kind {self.bridge.kind!r} is served by a consumer process, not a forwarder"
            raise NotImplementedError(msg)
        logger.info("bridged event delivered", extra={"bridge": self.name, "target": self.bridge.target_arn})

    def _start_execution(self, event_json: str, payload: str) -> None:
        # Unnamed executions get an ARN ending in ":None" in moto; the event id also makes a
        # redelivered event start no second execution.
        event_id = str(json.loads(event_json).get("id", ""))
        name = _EXECUTION_NAME_UNSAFE.sub("-", f"{self.bridge.rule_logical_id}-{event_id}")[:80]
        try:
            self.clients.stepfunctions.start_execution(stateMachineArn=self.bridge.target_arn, name=name, input=payload)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
