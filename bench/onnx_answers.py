"""Do questions get the same answers with the ONNX export as with sentence-transformers?

    .venv/bin/python bench/onnx_answers.py --index /tmp/news-index [--questions bench/data/conflict_questions.jsonl]

Asks every question twice through `QAService` on the same index, once embedding it with
the model's ONNX export (what `ask` and `serve` use) and once with sentence-transformers
(what `eval` uses), and prints how many answers agree exactly (status, and every quote's
document and character offsets, in order), the largest difference between the two
question vectors (1 - cosine), and each question whose answer differs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=ROOT / "bench" / "data" / "conflict_questions.jsonl")
    args = parser.parse_args()

    from assistant.index.embedding import load_embedder
    from assistant.index.onnx_embedding import OnnxEmbedder, load_query_embedder
    from assistant.index.store import recorded_model
    from assistant.service import QAService
    from assistant.settings import Settings

    model = recorded_model(args.index)
    settings = Settings(index_dir=args.index, model=model)
    exported = load_query_embedder(model, index_dir=args.index)
    if not isinstance(exported, OnnxEmbedder):
        raise SystemExit(f"no ONNX export for {model} in {args.index}")
    reference = load_embedder(model)
    questions = [json.loads(line)["question"] for line in args.questions.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    distance = float(np.max(1.0 - np.sum(exported.encode(questions) * reference.encode(questions), axis=1)))
    with_onnx = QAService(settings, embedder=exported)
    with_model = QAService(settings, embedder=reference)
    differing = []
    for question in questions:
        a, b = with_onnx.ask(question), with_model.ask(question)
        if _shape(a) != _shape(b):
            differing.append((question, _shape(a), _shape(b)))
    print(f"{len(questions) - len(differing)} of {len(questions)} answers identical "
          f"(largest question-vector difference {distance:.2g}, 1 - cosine)")
    for question, a, b in differing:
        print(f"  differs: {question!r}\n    onnx:  {a}\n    model: {b}")


def _shape(answer) -> tuple:
    return (answer.outcome.value, tuple((q.doc_id, q.start, q.end) for q in answer.quotes),
            tuple((q.doc_id, q.start, q.end) for q in answer.nearest))


if __name__ == "__main__":
    main()
