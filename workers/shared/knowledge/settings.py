"""Which knowledge source a worker reads, validated once at cold start from the template's environment."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KnowledgeSettings(BaseSettings):
    """``KNOWLEDGE_SOURCE`` (bedrock-kb | q-business) and the ids of the one knowledge base or application."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    knowledge_source: Literal["bedrock-kb", "q-business"] = "bedrock-kb"
    knowledge_base_id: str = ""
    qbusiness_application_id: str = ""
    qbusiness_retriever_id: str = ""
    knowledge_max_results: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _ids_of_the_chosen_source(self) -> Self:
        if self.knowledge_source == "bedrock-kb" and not self.knowledge_base_id:
            raise ValueError("KNOWLEDGE_BASE_ID is required when KNOWLEDGE_SOURCE is bedrock-kb")
        if self.knowledge_source == "q-business" and not (
            self.qbusiness_application_id and self.qbusiness_retriever_id
        ):
            raise ValueError(
                "QBUSINESS_APPLICATION_ID and QBUSINESS_RETRIEVER_ID are required when KNOWLEDGE_SOURCE is q-business"
            )
        return self
