"""KnowledgeSource adapter for Amazon Q Business: ``qbusiness`` SearchRelevantContent through one retriever."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workers.shared.aws import build_client
from workers.shared.knowledge.errors import translate
from workers.shared.knowledge.ports import Passage

log = logging.getLogger(__name__)

MAX_PAGE = 100  # SearchRelevantContent's maxResults maximum
# Q Business exposes a confidence band, not a number: each band becomes a score inside it, so one grounding
# threshold (GROUNDED_MIN_SCORE = 0.45) reads both adapters alike (MEDIUM and above count as grounded).
CONFIDENCE_SCORES = {"VERY_HIGH": 0.9, "HIGH": 0.7, "MEDIUM": 0.5, "LOW": 0.2, "NOT_AVAILABLE": 0.0}


def to_passage(item: dict[str, Any]) -> Passage | None:
    """A relevant-content item as a passage (None without text or a document URI)."""
    text = item.get("content")
    uri = item.get("documentUri") or item.get("documentId")
    if not text or not uri:
        return None
    confidence = str((item.get("scoreAttributes") or {}).get("scoreConfidence", "NOT_AVAILABLE"))
    return Passage(
        text=text,
        source_uri=str(uri),
        title=str(item.get("documentTitle") or ""),
        score=CONFIDENCE_SCORES.get(confidence, 0.0),
        document_id=str(item.get("documentId") or ""),
    )


class QBusinessKnowledge:
    """SearchRelevantContent in one Q Business application and retriever; follows nextToken."""

    def __init__(
        self,
        application_id: str,
        retriever_id: str,
        client: Any = None,  # a boto3 client (no stubs are locked for this service)
        page_size: int = MAX_PAGE,
    ) -> None:
        self.application_id = application_id
        self.retriever_id = retriever_id
        self._client = client or build_client("qbusiness")
        self.page_size = max(1, min(page_size, MAX_PAGE))

    def retrieve(self, query: str, max_results: int = 5) -> list[Passage]:
        """Up to ``max_results`` passages for ``query``, in the order Q Business ranks them."""
        passages: list[Passage] = []
        token: str | None = None
        while len(passages) < max_results:
            request: dict[str, Any] = {
                "applicationId": self.application_id,
                "queryText": query,
                "contentSource": {"retriever": {"retrieverId": self.retriever_id}},
                "maxResults": min(self.page_size, max_results - len(passages)),
            }
            if token:
                request["nextToken"] = token
            try:
                response = self._client.search_relevant_content(**request)
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc) from exc
            page = [p for p in map(to_passage, response.get("relevantContent", [])) if p is not None]
            passages.extend(page)
            token = response.get("nextToken")
            if not token or not page:
                break
        log.info("knowledge retrieved", extra={"source": "q-business", "passages": len(passages)})
        return passages[:max_results]
