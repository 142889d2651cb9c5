"""Company knowledge behind one port: Bedrock Knowledge Bases or Amazon Q Business, or an in-memory fake."""

from workers.shared.knowledge.bedrock_kb import BedrockKnowledgeBase
from workers.shared.knowledge.factory import build_knowledge_source
from workers.shared.knowledge.fake import InMemoryKnowledgeSource
from workers.shared.knowledge.ports import (
    GROUNDED_MIN_SCORE,
    KnowledgeAccessDenied,
    KnowledgeError,
    KnowledgeQueryInvalid,
    KnowledgeSource,
    KnowledgeSourceNotFound,
    KnowledgeThrottled,
    KnowledgeUnavailable,
    Passage,
)
from workers.shared.knowledge.qbusiness import QBusinessKnowledge
from workers.shared.knowledge.settings import KnowledgeSettings

__all__ = [
    "GROUNDED_MIN_SCORE",
    "BedrockKnowledgeBase",
    "InMemoryKnowledgeSource",
    "KnowledgeAccessDenied",
    "KnowledgeError",
    "KnowledgeQueryInvalid",
    "KnowledgeSettings",
    "KnowledgeSource",
    "KnowledgeSourceNotFound",
    "KnowledgeThrottled",
    "KnowledgeUnavailable",
    "Passage",
    "QBusinessKnowledge",
    "build_knowledge_source",
]
