"""Composition: the KnowledgeSource adapter the settings name, with an injectable boto3 client."""

from __future__ import annotations

from typing import Any

from workers.shared.knowledge.bedrock_kb import BedrockKnowledgeBase
from workers.shared.knowledge.ports import KnowledgeSource
from workers.shared.knowledge.qbusiness import QBusinessKnowledge
from workers.shared.knowledge.settings import KnowledgeSettings


def build_knowledge_source(settings: KnowledgeSettings, client: Any = None) -> KnowledgeSource:
    """The adapter for ``settings.knowledge_source``; ``client`` replaces the boto3 client it would build."""
    if settings.knowledge_source == "q-business":
        return QBusinessKnowledge(settings.qbusiness_application_id, settings.qbusiness_retriever_id, client=client)
    return BedrockKnowledgeBase(settings.knowledge_base_id, client=client)
