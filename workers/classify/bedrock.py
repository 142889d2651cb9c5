"""The Bedrock classifier: one structured Converse call whose tool schema constrains the intent."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from schemas.events import TokenUsage
from workers.classify.logic import Classification, TicketText
from workers.classify.taxonomy import Taxonomy
from workers.shared.bedrock import BedrockClient

TASK = "classification"
MAX_OUTPUT_TOKENS = 400

_INSTRUCTIONS = """You classify customer-support tickets. Read the ticket and record, with the tool:
- intent: the one intent below that best says what the customer wants;
- category: the category that intent is listed under;
- confidence: how sure you are of the intent, from 0 to 1;
- summary: one line, what the customer wants;
- key_issues: the distinct problems the customer raises, a few words each.
Personal data in the ticket is already replaced by placeholders such as [EMAIL]; do not guess it.

Intents:
{taxonomy}"""


class TicketClassification(BaseModel):
    """Record the classification of one customer-support ticket."""

    intent: str
    category: str
    confidence: float = Field(ge=0.0, le=1.0, description="How sure the intent is, 0 to 1.")
    summary: str = Field(max_length=200, description="One line: what the customer wants.")
    key_issues: list[str] = Field(default_factory=list, max_length=5, description="The distinct problems raised.")


def output_model(taxonomy: Taxonomy) -> type[TicketClassification]:
    """The tool's input model for ``taxonomy``: intent and category constrained to its names (enums)."""
    intents: Any = Literal[taxonomy.intent_names]
    categories: Any = Literal[taxonomy.category_names]
    return create_model(
        "TicketClassification",
        __base__=TicketClassification,
        __doc__=TicketClassification.__doc__,
        intent=(intents, Field(description="The intent, from the list in the instructions.")),
        category=(categories, Field(description="The category the intent is listed under.")),
    )


class BedrockClassifier:
    """Classifies through the shared Bedrock client on the ``classification`` route."""

    def __init__(self, client: BedrockClient, taxonomy: Taxonomy) -> None:
        self._client = client
        self._output = output_model(taxonomy)
        self._system = _INSTRUCTIONS.format(taxonomy=taxonomy.describe())

    def classify(self, ticket: TicketText) -> Classification:
        """One structured call; the client validates the answer against the schema (and corrects once)."""
        text = f"Subject: {ticket.subject}\n\n{ticket.body}" if ticket.subject else ticket.body
        result = self._client.structured(
            TASK,
            [{"role": "user", "content": text}],
            self._output,
            system=self._system,
            inference={"maxTokens": MAX_OUTPUT_TOKENS, "temperature": 0.0},
        )
        answer = result.output
        return Classification(
            intent=answer.intent,
            category=answer.category,
            confidence=answer.confidence,
            summary=answer.summary,
            key_issues=tuple(answer.key_issues),
            model_id=result.model_id,
            usage=TokenUsage(
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
                estimated_cost_usd=result.cost_usd,
            ),
        )
