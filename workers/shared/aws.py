"""One place that builds boto3 clients, so retries are configuration and endpoints come from the environment."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Request-level retries belong to botocore; application code never loops around an AWS call itself.
DEFAULT_RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 4},
    connect_timeout=5,
    read_timeout=30,
)


def build_client(service_name: str, config: Config | None = None) -> Any:
    """A boto3 client; ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` select an emulator if set."""
    merged = DEFAULT_RETRY_CONFIG.merge(config) if config else DEFAULT_RETRY_CONFIG
    return boto3.client(service_name, config=merged)  # type: ignore[call-overload]
