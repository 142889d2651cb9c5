"""The knowledge port: passages retrieved for a question, with a score the caller can ground on."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

# A passage scoring below this did not answer the question: the drafting worker flags its draft ungrounded.
# Measured on the shipped knowledge base: on-topic questions score 0.5-0.95, off-topic ones 0.0-0.3.
GROUNDED_MIN_SCORE = 0.45


class Passage(BaseModel):
    """One retrieved passage: its text, where it comes from, and how relevant it is (0 = not, 1 = fully)."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(min_length=1)
    source_uri: str = Field(min_length=1)
    title: str = ""
    score: float = Field(ge=0.0, le=1.0)
    document_id: str = ""

    @property
    def grounded(self) -> bool:
        """True when the passage is relevant enough to support an answer."""
        return self.score >= GROUNDED_MIN_SCORE


class KnowledgeError(Exception):
    """Base of every error a knowledge source raises."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class KnowledgeSourceNotFound(KnowledgeError):
    """The knowledge base, application or retriever does not exist (ResourceNotFoundException)."""


class KnowledgeQueryInvalid(KnowledgeError):
    """The request was rejected as malformed (ValidationException), e.g. an empty question."""


class KnowledgeAccessDenied(KnowledgeError):
    """IAM does not allow the call (AccessDeniedException)."""


class KnowledgeThrottled(KnowledgeError):
    """Throttled, after botocore's retries."""


class KnowledgeUnavailable(KnowledgeError):
    """The service failed (5xx, dependency or connection failure), after botocore's retries."""


class KnowledgeSource(Protocol):
    """Company knowledge: the passages most relevant to a question, best first."""

    def retrieve(self, query: str, max_results: int = 5) -> list[Passage]:
        """Up to ``max_results`` passages for ``query``, best first; raises a ``KnowledgeError``."""
        ...
