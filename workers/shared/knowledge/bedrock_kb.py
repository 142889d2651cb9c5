"""KnowledgeSource adapter for Amazon Bedrock Knowledge Bases: ``bedrock-agent-runtime`` Retrieve."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workers.shared.aws import build_client
from workers.shared.knowledge.errors import translate
from workers.shared.knowledge.ports import Passage

log = logging.getLogger(__name__)

MAX_PAGE = 100  # Retrieve's numberOfResults maximum
_URL_LOCATIONS = ("webLocation", "confluenceLocation", "salesforceLocation", "sharePointLocation")


def _source_uri(result: dict[str, Any]) -> str:
    location = result.get("location") or {}
    if "s3Location" in location:
        return str(location["s3Location"].get("uri", ""))
    for kind in _URL_LOCATIONS:
        if kind in location:
            return str(location[kind].get("url", ""))
    return str((result.get("metadata") or {}).get("x-amz-bedrock-kb-source-uri", ""))


def to_passage(result: dict[str, Any]) -> Passage | None:
    """A Retrieve result as a passage (None for a result without text, e.g. an image chunk)."""
    text = (result.get("content") or {}).get("text")
    uri = _source_uri(result)
    if not text or not uri:
        return None
    metadata = result.get("metadata") or {}
    title = str(metadata.get("title") or uri.rstrip("/").rsplit("/", 1)[-1])
    score = min(max(float(result.get("score") or 0.0), 0.0), 1.0)
    document_id = str(result.get("documentId") or metadata.get("x-amz-bedrock-kb-chunk-id") or "")
    return Passage(text=text, source_uri=uri, title=title, score=score, document_id=document_id)


class BedrockKnowledgeBase:
    """Retrieve from one Bedrock knowledge base; follows nextToken until ``max_results`` passages."""

    def __init__(
        self,
        knowledge_base_id: str,
        client: Any = None,  # a boto3 client (no stubs are locked for this service)
        page_size: int = MAX_PAGE,
    ) -> None:
        self.knowledge_base_id = knowledge_base_id
        self._client = client or build_client("bedrock-agent-runtime")
        self.page_size = max(1, min(page_size, MAX_PAGE))

    def retrieve(self, query: str, max_results: int = 5) -> list[Passage]:
        """Up to ``max_results`` passages for ``query``, best first."""
        passages: list[Passage] = []
        token: str | None = None
        while len(passages) < max_results:
            wanted = min(self.page_size, max_results - len(passages))
            request: dict[str, Any] = {
                "knowledgeBaseId": self.knowledge_base_id,
                "retrievalQuery": {"text": query},
                "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": wanted}},
            }
            if token:
                request["nextToken"] = token
            try:
                response = self._client.retrieve(**request)
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc) from exc
            page = [p for p in map(to_passage, response.get("retrievalResults", [])) if p is not None]
            passages.extend(page)
            token = response.get("nextToken")
            if not token or not page:
                break
        log.info("knowledge retrieved", extra={"source": "bedrock-kb", "passages": len(passages)})
        return passages[:max_results]
