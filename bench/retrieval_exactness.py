"""Does candidate retrieval (vector index top-k + BM25 top-k) rank passages as scoring every chunk does?

    .venv/bin/python bench/retrieval_exactness.py --index DIR [--questions bench/data/conflict_questions.jsonl]

For each question and each of four filter settings (none, a date window, a source, a source
and a date), compares the fused top 20 of `retrieval.score_passages` with the fused top 20 of
exhaustive scoring (every chunk's cosine from the stored vectors and every chunk's BM25, as
retrieval worked before the vector-index seam). On a flat index they must be identical.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--questions", default="bench/data/conflict_questions.jsonl")
    args = parser.parse_args()
    from assistant.index.embedding import load_embedder
    from assistant.index.store import bm25_tokens, load_index
    from assistant.search.questions import content_terms
    from assistant.search.retrieval import (
        PassageScores, SearchFilters, bm25_scores, document_mask, fuse, prepare, score_passages, top_rows,
    )

    loaded = load_index(args.index)
    index = prepare(loaded)
    with open(args.questions, encoding="utf-8") as handle:
        questions = [json.loads(line)["question"] for line in handle if line.strip()]
    vectors = load_embedder(loaded.manifest.model).encode(questions)
    settings = [SearchFilters(), SearchFilters(since=dt.date(2025, 6, 1), until=dt.date(2025, 12, 31)),
                SearchFilters(sources=("Reuters",)), SearchFilters(sources=("Al Jazeera",), since=dt.date(2026, 1, 1))]
    runs = differences = 0
    for question, vector in zip(questions, vectors):
        tokens = content_terms(bm25_tokens([question])[0])
        for filters in settings:
            candidates = fuse(score_passages(index, vector, tokens, filters))
            exhaustive = fuse(PassageScores(
                dense=(np.asarray(index.chunk_vectors) @ vector).astype(np.float32),
                bm25=bm25_scores(index.chunk_bm25, tokens, len(index.chunk_doc)),
                allowed=document_mask(index, filters)[index.chunk_doc]))
            ours, theirs = top_rows(candidates, 20), top_rows(exhaustive, 20)
            runs += 1
            if ours.tolist() != theirs.tolist() or not np.allclose(candidates[ours], exhaustive[theirs]):
                differences += 1
                print(f"differs: {question!r} {filters}")
    kinds = ", ".join(f"{count} {factory}" for factory, count in loaded.chunk_index.kinds.items())
    print(f"{runs} question x filter runs on {args.index} ({len(loaded.segments)} segments: {kinds}): "
          f"{differences} fused top-20 lists differ")


if __name__ == "__main__":
    main()
