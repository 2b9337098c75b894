"""Fit the abstention ("evidence") model of assistant/search/ranker.json from eval runs.

    .venv/bin/python bench/eval_abstain.py [--write] answer:DETAILS.jsonl decline:DETAILS.jsonl ...

Each DETAILS file is written by `conflict-qa eval ... --details FILE`; its lines
carry `evidence_features` (ranking.EVIDENCE_NAMES) and `article`. Prefix a file
with `answer:` when its questions should be answered (answerable questions on
their own corpus) and `decline:` when they should be declined (questions asked
against another corpus's index with `--foreign-index`, or unanswerable ones).

Fits a logistic regression on the questions of even-numbered articles (JSONL
files: even line numbers), every file weighing the same however many questions
it has, except that `answer:` files weigh `ANSWER_WEIGHT` times more (a wrongly
declined answerable question costs a user more than a wrongly answered foreign
one, which still shows only verbatim, cited sentences), and reports for each file the share answered / declined at logit 0 on
the odd half (holdout), the even half and all. `--write` stores the weights in
the "evidence" entry of assistant/search/ranker.json. Needs scikit-learn (a dependency
of sentence-transformers); the assistant itself only needs numpy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ANSWER_WEIGHT = 1.5

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def read(argument: str) -> tuple[str, bool, np.ndarray, np.ndarray]:
    kind, _, path = argument.partition(":")
    if kind not in ("answer", "decline") or not path:
        raise SystemExit(f"expected answer:FILE or decline:FILE, got {argument!r}")
    features, articles = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if kind == "answer" and not record["answerable"]:
                continue
            features.append(record["evidence_features"])
            articles.append(record["article"])
    return path, kind == "answer", np.array(features, dtype=np.float64), np.array(articles)


def main(arguments: list[str], *, write: bool = False) -> None:
    from sklearn.linear_model import LogisticRegression

    groups = [read(argument) for argument in arguments]
    inputs, labels, weights = [], [], []
    for _, answer, features, articles in groups:
        train = articles % 2 == 0
        inputs.append(features[train])
        labels.append(np.full(train.sum(), answer))
        weights.append(np.full(train.sum(), 1000.0 * (ANSWER_WEIGHT if answer else 1.0) / max(train.sum(), 1)))
    model = LogisticRegression(C=10.0, max_iter=5000)
    model.fit(np.vstack(inputs), np.concatenate(labels), sample_weight=np.concatenate(weights))
    for path, answer, features, articles in groups:
        logits = model.decision_function(features)
        correct = (logits >= 0) == answer
        verb = "answered" if answer else "declined"
        halves = "  ".join(f"{name} {correct[mask].mean():.4f} ({mask.sum()})" for name, mask in (
            ("odd", articles % 2 == 1), ("even", articles % 2 == 0), ("all", np.ones(len(articles), bool))
        ) if mask.any())
        print(f"{verb}  {halves}  {path}")
    weights = [round(float(value), 4) for value in model.coef_[0]]
    bias = round(float(model.intercept_[0]), 4)
    print(f"evidence weights {weights}, bias {bias}")
    if write:
        from assistant.search.ranking import EVIDENCE_NAMES
        from assistant.search.scoring import RANKER_FILE

        payload = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
        import datetime as dt
        import hashlib

        payload["evidence"] = {"names": list(EVIDENCE_NAMES), "weights": weights, "bias": bias}
        payload.setdefault("fitted", {})["evidence"] = {
            "script": "bench/eval_abstain.py",
            "data": [{"file": argument.partition(":")[2], "kind": argument.partition(":")[0],
                      "sha256_16": hashlib.sha256(Path(argument.partition(":")[2]).read_bytes()).hexdigest()[:16]}
                     for argument in arguments],
            "rows": "questions of EVEN articles (JSONL files: even line numbers) of each file; odd held out",
            "settings": {"C": 10.0, "answer_weight": ANSWER_WEIGHT, "class_balance": "each file weighs the same"},
            "date": dt.date.today().isoformat(),
        }
        RANKER_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RANKER_FILE}")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main([a for a in arguments if a != "--write"], write="--write" in arguments)
