"""Fit the abstention ("evidence") model of assistant/ranking.py from eval runs.

    .venv/bin/python bench/eval_abstain.py answer:DETAILS.jsonl decline:DETAILS.jsonl ...

Each DETAILS file is written by `conflict-qa eval ... --details FILE`; its lines
carry `evidence_features` (ranking.EVIDENCE_NAMES) and `article`. Prefix a file
with `answer:` when its questions should be answered (answerable questions on
their own corpus) and `decline:` when they should be declined (questions asked
against another corpus's index with `--foreign-index`, or unanswerable ones).

Fits a logistic regression on the questions of even-numbered articles (JSONL
files: even line numbers), every file weighing the same however many questions
it has, and reports for each file the share answered / declined at logit 0 on
the odd half (holdout), the even half and all. Prints EVIDENCE_WEIGHTS and
EVIDENCE_BIAS to paste into ranking.py. Needs scikit-learn (a dependency of
sentence-transformers); the assistant itself only needs numpy.
"""

from __future__ import annotations

import json
import sys

import numpy as np


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


def main(arguments: list[str]) -> None:
    from sklearn.linear_model import LogisticRegression

    groups = [read(argument) for argument in arguments]
    inputs, labels, weights = [], [], []
    for _, answer, features, articles in groups:
        train = articles % 2 == 0
        inputs.append(features[train])
        labels.append(np.full(train.sum(), answer))
        weights.append(np.full(train.sum(), 1000.0 / max(train.sum(), 1)))
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
    coefficients = ", ".join(f"{value:.3f}" for value in model.coef_[0])
    print(f"EVIDENCE_WEIGHTS = np.array([{coefficients}], dtype=np.float64)")
    print(f"EVIDENCE_BIAS = {model.intercept_[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
