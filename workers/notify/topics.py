"""The notifier port (one SNS topic per audience), its SNS adapter and an in-memory fake."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from workers.shared.aws import build_client

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef


@dataclass(frozen=True)
class Notification:
    """One message to one topic, with the attributes subscriptions filter on."""

    topic_arn: str
    subject: str
    message: dict[str, Any]
    attributes: dict[str, str]


class Notifier(Protocol):
    """Where notifications go."""

    def send(self, notification: Notification) -> str:
        """Publish one notification; return the message id, or raise."""


class SnsNotifier:
    """Publishes to SNS with string message attributes (priority, tenant, event_type, event_id, audience)."""

    def __init__(self, client: SNSClient | None = None) -> None:
        self._client = client or build_client("sns")

    def send(self, notification: Notification) -> str:
        """Publish; SNS's own retries come from botocore's configuration."""
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            name: {"DataType": "String", "StringValue": value} for name, value in notification.attributes.items()
        }
        response = self._client.publish(
            TopicArn=notification.topic_arn,
            Subject=notification.subject,
            Message=json.dumps(notification.message, sort_keys=True),
            MessageAttributes=attributes,
        )
        return response["MessageId"]


@dataclass
class InMemoryNotifier:
    """The fake of the port: keeps what it was given and answers with a fresh message id."""

    sent: list[Notification] = field(default_factory=list)

    def send(self, notification: Notification) -> str:
        """Remember the notification."""
        self.sent.append(notification)
        return str(uuid.uuid4())
