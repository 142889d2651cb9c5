"""The emulated stack: template.yaml in an AWS emulator, offline Bedrock, workers as supervised queue consumers."""

from supportflow.local.resources import NOT_EMULATED, ResourceInfo
from supportflow.local.stack import EmulatedStack, WorkerError

__all__ = ["NOT_EMULATED", "EmulatedStack", "ResourceInfo", "WorkerError"]
