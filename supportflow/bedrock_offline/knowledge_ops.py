"""Knowledge retrieval on its real wire protocols: Bedrock Knowledge Bases ``Retrieve`` (bedrock-agent-runtime)
and Amazon Q Business ``SearchRelevantContent`` (qbusiness), both REST-JSON, over the shipped local index.

Any well-formed id names the one shipped knowledge base, except ids starting with ``missing`` (any case),
which answer ``ResourceNotFoundException`` as an unknown id does on AWS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.conversation import BedrockError, validation
from supportflow.bedrock_offline.knowledge_index import Hit, KnowledgeIndex
from supportflow.bedrock_offline.routing import Request, RequestContext, Response, Router
from supportflow.bedrock_offline.wire import json_response

MISSING_PREFIX = "missing"
MAX_CANDIDATES = 100  # the most either API returns for one query, over all its pages
RETRIEVE_DEFAULT_RESULTS = 5
SEARCH_DEFAULT_RESULTS = 10
DATA_SOURCE_ID = "SUPPORTDS1"
CONTENT_MAX_CHARS = 2048  # SearchRelevantContent's ``content`` limit
# Blended score -> Q Business scoreConfidence (it exposes no number).
CONFIDENCE_BANDS = ((0.8, "VERY_HIGH"), (0.6, "HIGH"), (0.45, "MEDIUM"), (0.0, "LOW"))

_KB_ID = re.compile(
    r"[0-9a-zA-Z]{10}|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:knowledge-base/[0-9a-zA-Z]{10}"
)
_Q_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]{35}")


def _not_found(message: str) -> BedrockError:
    return BedrockError(404, "ResourceNotFoundException", message)


def _check_id(value: str, pattern: re.Pattern[str], member: str) -> None:
    if not pattern.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern.pattern}"
        )


def _page_size(raw: object, default: int, member: str) -> int:
    if raw is None:
        return default
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= MAX_CANDIDATES:
        raise validation(f"1 validation error detected: Value at '{member}' must be between 1 and {MAX_CANDIDATES}")
    return raw


def _query_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def encode_token(offset: int, key: str) -> str:
    """An opaque nextToken: where the next page starts, bound to the query it continues."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "k": key}).encode()).decode().rstrip("=")


def decode_token(token: object, key: str) -> int:
    """The offset a nextToken points at; a token of another query (or garbage) is a ValidationException."""
    if token is None:
        return 0
    try:
        padded = str(token) + "=" * (-len(str(token)) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        offset = int(data["o"])
        same_query = data["k"] == key
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise validation("The nextToken is invalid.") from exc
    if not same_query or not 0 < offset < MAX_CANDIDATES:
        raise validation("The nextToken does not belong to this request.")
    return offset


def _page(hits: list[Hit], offset: int, size: int, key: str) -> tuple[list[Hit], str | None]:
    end = offset + size
    token = encode_token(end, key) if end < len(hits) else None
    return hits[offset:end], token


def score_confidence(score: float) -> str:
    """The Q Business scoreConfidence band of a blended score."""
    return next(label for floor, label in CONFIDENCE_BANDS if score >= floor)


class KnowledgeOperations:
    """Retrieve and SearchRelevantContent over one lazily built index (shared by both APIs)."""

    def __init__(self, brain: Brain, index_factory: Callable[[Brain], KnowledgeIndex] | None = None) -> None:
        self._brain = brain
        self._factory = index_factory or (lambda b: KnowledgeIndex(b.embedder))
        self._index: KnowledgeIndex | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> KnowledgeIndex:
        """The index, built on first use (~0.1 s with the shipped vectors)."""
        with self._lock:
            if self._index is None:
                self._index = self._factory(self._brain)
            return self._index

    def register(self, router: Router) -> None:
        """Add both operations' REST routes."""
        router.add("POST", r"/knowledgebases/(?P<knowledge_base_id>[^/]+)/retrieve", "Retrieve", self.retrieve)
        router.add(
            "POST",
            r"/applications/(?P<application_id>[^/]+)/relevant-content",
            "SearchRelevantContent",
            self.search_relevant_content,
        )

    def _search(self, query: object, member: str) -> list[Hit]:
        if not isinstance(query, str) or not query.strip():
            raise validation(
                f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
                "Member must not be empty"
            )
        return self.index.search(query, top=MAX_CANDIDATES)

    def retrieve(self, request: Request, context: RequestContext) -> Response:
        """POST /knowledgebases/{knowledgeBaseId}/retrieve (bedrock-agent-runtime Retrieve)."""
        kb_id = context.path_params["knowledge_base_id"]
        _check_id(kb_id, _KB_ID, "knowledgeBaseId")
        if kb_id.rsplit("/", 1)[-1].lower().startswith(MISSING_PREFIX):
            raise _not_found(f"Knowledge base {kb_id} is not found.")
        body = request.json()
        query = (body.get("retrievalQuery") or {}).get("text")
        vector_config = (body.get("retrievalConfiguration") or {}).get("vectorSearchConfiguration") or {}
        size = _page_size(vector_config.get("numberOfResults"), RETRIEVE_DEFAULT_RESULTS, "numberOfResults")
        hits = self._search(query, "retrievalQuery.text")
        key = _query_key("kb", kb_id, str(query))
        page, token = _page(hits, decode_token(body.get("nextToken"), key), size, key)
        out: dict[str, Any] = {"retrievalResults": [self._retrieval_result(hit) for hit in page]}
        if token:
            out["nextToken"] = token
        return json_response(out)

    @staticmethod
    def _retrieval_result(hit: Hit) -> dict[str, Any]:
        article = hit.chunk.article
        if article.uri.startswith("s3://"):
            location: dict[str, Any] = {"type": "S3", "s3Location": {"uri": article.uri}}
        else:
            location = {"type": "WEB", "webLocation": {"url": article.uri}}
        return {
            "content": {"type": "TEXT", "text": hit.chunk.text},
            "location": location,
            "score": hit.score,
            "metadata": {
                "x-amz-bedrock-kb-source-uri": article.uri,
                "x-amz-bedrock-kb-chunk-id": hit.chunk.chunk_id,
                "x-amz-bedrock-kb-data-source-id": DATA_SOURCE_ID,
                "title": article.title,
                "category": article.category,
            },
        }

    def search_relevant_content(self, request: Request, context: RequestContext) -> Response:
        """POST /applications/{applicationId}/relevant-content (qbusiness SearchRelevantContent)."""
        app_id = context.path_params["application_id"]
        _check_id(app_id, _Q_ID, "applicationId")
        body = request.json()
        retriever = ((body.get("contentSource") or {}).get("retriever") or {}).get("retrieverId")
        if not isinstance(retriever, str):
            raise validation("contentSource must name a retriever.")
        _check_id(retriever, _Q_ID, "contentSource.retriever.retrieverId")
        if app_id.lower().startswith(MISSING_PREFIX):
            raise _not_found(f"Application {app_id} is not found.")
        if retriever.lower().startswith(MISSING_PREFIX):
            raise _not_found(f"Retriever {retriever} is not found.")
        size = _page_size(body.get("maxResults"), SEARCH_DEFAULT_RESULTS, "maxResults")
        attribute_filter = body.get("attributeFilter")
        hits = [
            hit
            for hit in self._search(body.get("queryText"), "queryText")
            if attribute_filter is None or _matches(attribute_filter, _attributes(hit))
        ]
        key = _query_key("q", app_id, retriever, str(body.get("queryText")), json.dumps(attribute_filter))
        page, token = _page(hits, decode_token(body.get("nextToken"), key), size, key)
        out: dict[str, Any] = {"relevantContent": [self._relevant_content(hit) for hit in page]}
        if token:
            out["nextToken"] = token
        return json_response(out)

    @staticmethod
    def _relevant_content(hit: Hit) -> dict[str, Any]:
        article = hit.chunk.article
        return {
            "content": hit.chunk.text[:CONTENT_MAX_CHARS],
            "documentId": article.id,
            "documentTitle": article.title,
            "documentUri": article.uri,
            "documentAttributes": [
                {"name": name, "value": {"stringValue": value}} for name, value in _attributes(hit).items()
            ],
            "scoreAttributes": {"scoreConfidence": score_confidence(hit.score)},
        }


def _attributes(hit: Hit) -> dict[str, str]:
    article = hit.chunk.article
    return {"_category": article.category, "_source_uri": article.uri, "_data_source_id": DATA_SOURCE_ID}


def _matches(rule: Any, attributes: dict[str, str]) -> bool:
    """Q Business attributeFilter: equalsTo on string attributes, and/or/not of filters."""
    if not isinstance(rule, dict) or len(rule) != 1:
        raise validation("attributeFilter must hold exactly one operator.")
    operator, operand = next(iter(rule.items()))
    if operator == "andAllFilters":
        return all(_matches(r, attributes) for r in operand)
    if operator == "orAllFilters":
        return any(_matches(r, attributes) for r in operand)
    if operator == "notFilter":
        return not _matches(operand, attributes)
    if operator == "equalsTo":
        value = (operand.get("value") or {}).get("stringValue")
        return attributes.get(operand.get("name", "")) == value
    raise validation(f"attributeFilter operator {operator} is not supported by the offline server.")
