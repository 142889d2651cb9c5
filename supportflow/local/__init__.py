"""The embedded local stack: template.yaml in an AWS emulator, offline Bedrock, workers as queue consumers."""

from supportflow.local.resources import NOT_EMULATED, ResourceInfo
from supportflow.local.stack import LocalStack, WorkerError

__all__ = ["NOT_EMULATED", "LocalStack", "ResourceInfo", "WorkerError"]
