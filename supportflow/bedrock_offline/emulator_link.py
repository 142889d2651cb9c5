"""The offline Bedrock's link to the emulator it serves beside: objects in its S3, events on its default bus.

Asynchronous Bedrock jobs (Data Automation, batch inference) read their input from S3, write their output
there and announce their state on the account's default EventBridge bus. Offline, "S3" and "the bus" are the
emulator's, whose endpoint the local stack hands over (``connect``) or ``$AWS_ENDPOINT_URL`` names.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client

ACCOUNT_ID = "123456789012"  # the emulator's (moto's) default account
EVENT_SOURCE = "aws.bedrock"
_DUMMY_KEY = "testing"  # the emulator accepts any credentials
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)


class EmulatorUnavailable(RuntimeError):
    """No emulator endpoint is known, or it did not answer: the job fails with a service error."""


class ObjectMissing(LookupError):
    """The S3 object (or bucket) a job names does not exist: the caller's error."""


@dataclass(frozen=True)
class S3Location:
    """A parsed ``s3://bucket/key`` URI."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """Split an ``s3://`` URI; the key may be empty (a bucket) or end in ``/`` (a prefix)."""
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3:// URI: {uri}")
        return cls(parts.netloc, parts.path.lstrip("/"))

    @property
    def uri(self) -> str:
        """Back to ``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    @property
    def name(self) -> str:
        """The last path segment (a file name)."""
        return self.key.rstrip("/").rsplit("/", 1)[-1]

    def child(self, *parts: str) -> S3Location:
        """This location as a prefix, with ``parts`` appended."""
        prefix = self.key.rstrip("/")
        return S3Location(self.bucket, "/".join(p for p in (prefix, *parts) if p))


class ObjectStore(Protocol):
    """Where job input is read and output written (the emulator's S3, or a fake)."""

    def read(self, location: S3Location) -> bytes:
        """The object's bytes; ``ObjectMissing`` if there is none."""
        ...

    def write(self, location: S3Location, body: bytes, content_type: str) -> None:
        """Put an object."""
        ...

    def list_keys(self, prefix: S3Location) -> list[str]:
        """Keys under a prefix, sorted."""
        ...


class EventBus(Protocol):
    """The account's default bus, where Bedrock announces job state."""

    def put(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        """Put one ``aws.bedrock`` event."""
        ...


class EmulatorLink:
    """S3 and the default bus of the emulator, through boto3 clients built once on first use."""

    def __init__(self, endpoint_url: str | None = None, region: str | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._lock = threading.Lock()
        self._clients: tuple[S3Client, EventBridgeClient] | None = None

    @property
    def region(self) -> str:
        """The region ARNs and events carry."""
        return self._region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    @property
    def endpoint_url(self) -> str | None:
        """The emulator endpoint: the one connected, else ``$AWS_ENDPOINT_URL``."""
        return self._endpoint_url or os.environ.get("AWS_ENDPOINT_URL")

    def connect(self, endpoint_url: str, region: str | None = None) -> None:
        """Point at an emulator (the local stack calls this once it has booted one)."""
        with self._lock:
            self._endpoint_url = endpoint_url
            self._region = region or self._region
            self._clients = None

    def _both(self) -> tuple[S3Client, EventBridgeClient]:
        with self._lock:
            if self._clients is None:
                endpoint = self.endpoint_url
                if not endpoint:
                    raise EmulatorUnavailable("no emulator endpoint: connect() or set AWS_ENDPOINT_URL")
                session = boto3.session.Session(
                    aws_access_key_id=_DUMMY_KEY, aws_secret_access_key=_DUMMY_KEY, region_name=self.region
                )
                self._clients = (
                    session.client("s3", endpoint_url=endpoint, config=_CONFIG),
                    session.client("events", endpoint_url=endpoint, config=_CONFIG),
                )
            return self._clients

    def read(self, location: S3Location) -> bytes:
        """The object's bytes; ``ObjectMissing`` if there is none."""
        try:
            return self._both()[0].get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "NoSuchBucket", "404"}:
                raise ObjectMissing(location.uri) from exc
            raise EmulatorUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise EmulatorUnavailable(str(exc)) from exc

    def write(self, location: S3Location, body: bytes, content_type: str) -> None:
        """Put an object."""
        try:
            self._both()[0].put_object(Bucket=location.bucket, Key=location.key, Body=body, ContentType=content_type)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                raise ObjectMissing(location.uri) from exc
            raise EmulatorUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise EmulatorUnavailable(str(exc)) from exc

    def list_keys(self, prefix: S3Location) -> list[str]:
        """Keys under a prefix, sorted."""
        keys: list[str] = []
        try:
            paginator = self._both()[0].get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key):
                keys.extend(item["Key"] for item in page.get("Contents", []))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                raise ObjectMissing(prefix.uri) from exc
            raise EmulatorUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise EmulatorUnavailable(str(exc)) from exc
        return sorted(keys)

    def put(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        """Put one ``aws.bedrock`` event on the default bus."""
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "Resources": resources,
            "EventBusName": "default",
        }
        try:
            answer = self._both()[1].put_events(Entries=[entry])  # type: ignore[list-item]
        except (ClientError, BotoCoreError) as exc:
            raise EmulatorUnavailable(str(exc)) from exc
        if answer.get("FailedEntryCount"):
            raise EmulatorUnavailable(f"event not accepted: {answer['Entries']}")


def now() -> datetime:
    """The current UTC time (one place, so job clocks agree)."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with a ``Z``, as the JSON protocols' ``iso8601`` timestamps are sent."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment is not None else None


def new_id() -> str:
    """A fresh job id (UUID4)."""
    return str(uuid.uuid4())
