"""The drafting worker's ports: knowledge, the model's three chain steps, and Step Functions callbacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from schemas.events import TokenUsage

T = TypeVar("T")


class RetrievedPassage(Protocol):
    """A passage as a knowledge source returns it (the knowledge port's passage fits this shape)."""

    @property
    def text(self) -> str:
        """The passage text."""

    @property
    def source_uri(self) -> str:
        """Where the passage comes from."""

    @property
    def title(self) -> str:
        """The source document's title."""

    @property
    def score(self) -> float:
        """Relevance to the query, higher is better."""


class KnowledgeSource(Protocol):
    """Company knowledge: Bedrock Knowledge Bases, Q Business, or an in-memory fake."""

    def retrieve(self, query: str, max_results: int) -> Sequence[RetrievedPassage]:
        """The passages most relevant to ``query``, best first."""


@dataclass(frozen=True)
class Passage:
    """A retrieved passage the chain kept."""

    text: str
    uri: str
    title: str
    score: float


@dataclass(frozen=True)
class TicketText:
    """What the model reads of a ticket: the redacted subject and body, and its language."""

    subject: str
    body: str
    language: str | None = None


@dataclass(frozen=True)
class Extraction:
    """The customer's questions, and the facts the ticket states (name -> value)."""

    questions: tuple[str, ...]
    facts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionContext:
    """One question and the passages retrieved for it (none: the knowledge cannot answer it)."""

    question: str
    passages: tuple[Passage, ...]

    @property
    def answerable(self) -> bool:
        """Whether any passage above the minimum score was found for it."""
        return bool(self.passages)


@dataclass(frozen=True)
class DraftRequest:
    """Everything the drafting step is given."""

    ticket: TicketText
    questions: tuple[QuestionContext, ...]
    facts: Mapping[str, str]
    unsupported_feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """One factual claim of a draft and whether a passage supports it."""

    text: str
    supported: bool
    source: str | None = None


@dataclass(frozen=True)
class Step(Generic[T]):
    """The answer of one model call, with what it cost."""

    output: T
    model_id: str
    usage: TokenUsage


class DraftingModel(Protocol):
    """The model behind the chain's three steps."""

    def extract(self, ticket: TicketText) -> Step[Extraction]:
        """The customer's questions and the facts stated in the ticket."""

    def draft(self, request: DraftRequest) -> Step[str]:
        """A reply in the customer's language built from the passages only."""

    def check(self, draft: str, passages: Sequence[Passage]) -> Step[tuple[Claim, ...]]:
        """Each factual claim of ``draft``, supported by a passage or not."""


class TaskCallbacks(Protocol):
    """Answers to a Step Functions task waiting on a task token."""

    def succeed(self, task_token: str, output: Mapping[str, Any]) -> None:
        """SendTaskSuccess with ``output`` as JSON."""

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """SendTaskFailure with an error name and a cause (no personal data)."""
