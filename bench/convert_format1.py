"""Rewrite an index of format 1 (one folder per version, flat vectors) as segments, reusing its
stored vectors: no model is loaded, nothing is embedded again.

    .venv/bin/python bench/convert_format1.py OLD_INDEX NEW_INDEX

Used to measure answer quality on the segmented format with exactly the vectors of the earlier
measurements (README, Answer quality). `conflict-qa build` on a format-1 index rebuilds it in
full instead (embedding everything again).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import faiss

    from assistant.index.build import _DocumentRows, build_index
    from assistant.index.format import document_from_record
    from assistant.settings import Settings

    old, new = Path(sys.argv[1]), Path(sys.argv[2])
    folder = old / (old / "CURRENT").read_text().strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("vectors", {}).get("chunks", {}).get("kind", "flat") != "flat":
        sys.exit("error: only flat format-1 indexes are read (their vectors are exact)")
    with open(folder / "documents.jsonl", encoding="utf-8") as handle:
        documents = [document_from_record(json.loads(line)) for line in handle]
    with np.load(folder / "spans.npz") as stored:
        spans = {key: stored[key] for key in stored.files}
    chunks, sentences = (faiss.read_index(str(folder / f"{name}.faiss")) for name in ("chunks", "sentences"))
    chunk_vectors, sentence_vectors = chunks.reconstruct_n(0, chunks.ntotal), sentences.reconstruct_n(0, sentences.ntotal)
    chunk_bounds = np.searchsorted(spans["chunk_doc"], np.arange(len(documents) + 1))
    sentence_bounds = np.searchsorted(spans["sentence_doc"], np.arange(len(documents) + 1))
    rows = {}
    for position, document in enumerate(documents):
        c0, c1 = chunk_bounds[position], chunk_bounds[position + 1]
        s0, s1 = sentence_bounds[position], sentence_bounds[position + 1]
        rows[document.id] = _DocumentRows(
            chunks=np.stack([spans["chunk_start"][c0:c1], spans["chunk_end"][c0:c1]], axis=1),
            sentences=np.stack([spans["sentence_start"][s0:s1], spans["sentence_end"][s0:s1],
                                spans["sentence_chunk"][s0:s1] - c0], axis=1),
            chunk_vectors=chunk_vectors[c0:c1], sentence_vectors=sentence_vectors[s0:s1])

    class StoredVectors:
        """Stands in for the model: the chunker's token counts are not used (no document is split)."""

        dimension, max_tokens, name = manifest["dimension"], 256, manifest["model"]

        def count_tokens(self, text: str) -> int:
            return len(text.split())

    report = build_index(
        documents, full=True, embedder=StoredVectors(),
        settings=Settings(index_dir=new, model=manifest["model"], model_languages=manifest.get("model_languages") or None),
        embed_stage=lambda changed, **_: ({d.id: rows[d.id] for d in changed}, 0, 0.0))
    print(json.dumps(report.to_json()))


if __name__ == "__main__":
    main()
