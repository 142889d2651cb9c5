"""The Bedrock client every worker uses: Converse/ConverseStream/InvokeModel with routing, retries, budgets."""

from workers.shared.bedrock.cache import DynamoDBResponseCache, InMemoryResponseCache, cache_key
from workers.shared.bedrock.client import BedrockClient, StreamListener
from workers.shared.bedrock.errors import (
    BedrockError,
    ModelAccessDenied,
    ModelFailed,
    ModelInputInvalid,
    ModelNotFound,
    ModelThrottled,
    ModelTimedOut,
    ModelUnavailable,
    StreamInterrupted,
    StreamThrottled,
    StreamUnavailable,
    StructuredOutputInvalid,
    TokenBudgetExceeded,
    ToolLoopExceeded,
)
from workers.shared.bedrock.ports import BedrockRuntimePort, CallRecord, MetricsPort, ResponseCachePort, TracerPort
from workers.shared.bedrock.result import Result, TokenCount, ToolCall, Usage
from workers.shared.bedrock.settings import BedrockSettings, ModelSpec, Pricing, Route
from workers.shared.bedrock.telemetry import NullMetrics, NullTracer, PowertoolsMetrics, XRayTracer
from workers.shared.bedrock.tools import ToolRegistry, tool_choice

__all__ = [
    "BedrockClient",
    "BedrockError",
    "BedrockRuntimePort",
    "BedrockSettings",
    "CallRecord",
    "DynamoDBResponseCache",
    "InMemoryResponseCache",
    "MetricsPort",
    "ModelAccessDenied",
    "ModelFailed",
    "ModelInputInvalid",
    "ModelNotFound",
    "ModelSpec",
    "ModelThrottled",
    "ModelTimedOut",
    "ModelUnavailable",
    "NullMetrics",
    "NullTracer",
    "PowertoolsMetrics",
    "Pricing",
    "ResponseCachePort",
    "Result",
    "Route",
    "StreamInterrupted",
    "StreamListener",
    "StreamThrottled",
    "StreamUnavailable",
    "StructuredOutputInvalid",
    "TokenBudgetExceeded",
    "TokenCount",
    "ToolCall",
    "ToolLoopExceeded",
    "ToolRegistry",
    "TracerPort",
    "Usage",
    "XRayTracer",
    "cache_key",
    "tool_choice",
]
