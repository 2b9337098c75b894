"""Fit the sentence ranker (assistant/ranking.py SENTENCE_WEIGHTS) on half of SQuAD v1.1 dev.

    .venv/bin/python bench/eval_fit.py --index /tmp/squad11 [--squad FILE] [--cache FEATURES.npz]

Asks every question of the file through QAService (index built from the same
file, e.g. by `conflict-qa eval`), records each candidate sentence's features
and whether it contains a gold answer, and fits on the even-numbered articles:
- SENTENCE_WEIGHTS: a listwise softmax model (the candidates of one question
  compete; maximises the log-probability of the answer-bearing sentences), with
  a small L2 penalty, by L-BFGS;
- ANSWER_WEIGHTS: a pointwise logistic regression (scikit-learn), whose logit
  is the absolute "this sentence answers" score used for abstention.
Reports quote hit@1/@3 of the fitted ranking on the odd-numbered articles
(holdout), the even ones and all, and prints both weight vectors to paste into
ranking.py. Also prints passage recall@1/@5 for RRF and several BM25 weights,
which is how retrieval.BM25_WEIGHT was chosen. scipy and scikit-learn are only
needed here (both come with sentence-transformers), not at run time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.eval_data import load_squad  # noqa: E402
from assistant.evaluation import contains_answer  # noqa: E402
from assistant.ranking import FEATURE_NAMES  # noqa: E402
from assistant.retrieval import FusionMethod, PassageScores, fuse, top_rows  # noqa: E402
from assistant.settings import Settings  # noqa: E402

BM25_WEIGHTS = (0.0, 0.2, 0.35, 0.5, 0.75, 1.0)


def collect(args: argparse.Namespace) -> dict[str, np.ndarray]:
    from assistant.service import QAService

    squad = load_squad(Path(args.squad))
    service = QAService(Settings(index_dir=Path(args.index)))
    index = service.search_index
    features, labels, group, article = [], [], [], []
    passage_ranks = {name: [] for name in ["rrf", *[f"w{w}" for w in BM25_WEIGHTS]]}
    started = time.perf_counter()
    questions = squad.questions[: args.limit] if args.limit else squad.questions
    for number, question in enumerate(questions):
        details = service.ask_details(question.question)
        candidates = details.ranking.candidates
        features.append(candidates.features)
        labels.append([contains_answer(index.sentence_text(int(row)), question.answers)
                       for row in candidates.rows])
        group.append(np.full(len(candidates.rows), number))
        article.append(question.article)
        scores = details.ranking.passage_scores
        for name in passage_ranks:
            if name == "rrf":
                fused = fuse(scores, FusionMethod.RRF)
            else:
                best = float(scores.bm25.max()) or 1.0
                fused = fuse(PassageScores(dense=scores.dense + float(name[1:]) * scores.bm25 / best,
                                           bm25=scores.bm25, allowed=scores.allowed), FusionMethod.DENSE)
            rows = top_rows(fused, 20)
            hits = [index.documents[index.chunk_doc[row]].id == question.doc_id for row in rows]
            passage_ranks[name].append(hits.index(True) + 1 if True in hits else 99)
        if number % 1000 == 0:
            print(f"{number} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return {
        "features": np.concatenate(features), "labels": np.concatenate(labels).astype(bool),
        "group": np.concatenate(group), "article": np.array(article),
        **{f"rank_{name}": np.array(ranks) for name, ranks in passage_ranks.items()},
    }


def hits(data: dict[str, np.ndarray], weights: np.ndarray, questions: np.ndarray) -> tuple[float, float]:
    scores = data["features"] @ weights
    hit1 = hit3 = 0
    bounds = np.searchsorted(data["group"], np.arange(len(data["article"]) + 1))
    for q in questions:
        lo, hi = bounds[q], bounds[q + 1]
        order = np.argsort(-scores[lo:hi], kind="stable")[:3]
        labels = data["labels"][lo:hi][order]
        hit1 += bool(len(labels) and labels[0])
        hit3 += bool(labels.any())
    return hit1 / len(questions), hit3 / len(questions)


def fit_listwise(data: dict[str, np.ndarray], questions: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weights maximising, per question, log(sum of softmax probabilities of its positive candidates)."""
    from scipy.optimize import minimize

    bounds = np.searchsorted(data["group"], np.arange(len(data["article"]) + 1))
    spans = [(bounds[q], bounds[q + 1]) for q in questions if data["labels"][bounds[q]:bounds[q + 1]].any()]
    rows = np.concatenate([np.arange(lo, hi) for lo, hi in spans])
    features, labels = data["features"][rows], data["labels"][rows].astype(np.float64)
    group = np.concatenate([np.full(hi - lo, i) for i, (lo, hi) in enumerate(spans)])
    count = len(spans)

    def loss_and_gradient(weights: np.ndarray) -> tuple[float, np.ndarray]:
        scores = features @ weights
        best = np.full(count, -np.inf)
        np.maximum.at(best, group, scores)
        exp = np.exp(scores - best[group])
        total, positive = np.bincount(group, exp, count), np.bincount(group, exp * labels, count)
        penalty = np.r_[0.0, weights[1:]]
        loss = -np.sum(np.log(positive) - np.log(total)) / count + l2 * np.sum(penalty ** 2)
        coefficient = exp * labels / positive[group] - exp / total[group]
        return loss, -(features.T @ coefficient) / count + 2 * l2 * penalty

    result = minimize(loss_and_gradient, np.zeros(features.shape[1]), jac=True, method="L-BFGS-B",
                      options={"maxiter": 1000})
    return result.x


def print_weights(name: str, weights: np.ndarray) -> None:
    """The weights as the `_weights({...})` literal ranking.py holds."""
    print(f"{name} = _weights({{")
    line = "   "
    for feature, weight in zip(FEATURE_NAMES, weights):
        item = f' "{feature}": {weight:.4f},'
        if len(line) + len(item) > 100:
            print(line)
            line = "   "
        line += item
    print(line)
    print("})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--squad", default="/work/shared/data/squad/dev-v1.1.json.gz")
    parser.add_argument("--cache", default=None, help="features .npz to reuse or write")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--C", type=float, default=1.0)
    args = parser.parse_args()
    if args.cache and Path(args.cache).exists():
        data = dict(np.load(args.cache))
    else:
        data = collect(args)
        if args.cache:
            np.savez(args.cache, **data)
    from sklearn.linear_model import LogisticRegression

    even_questions = np.flatnonzero(data["article"] % 2 == 0)
    odd_questions = np.flatnonzero(data["article"] % 2 == 1)
    all_questions = np.arange(len(data["article"]))
    for name in [key for key in data if key.startswith("rank_")]:
        ranks = data[name]
        print(f"{name:10s} passage recall@1 even {np.mean(ranks[even_questions] <= 1):.4f} "
              f"odd {np.mean(ranks[odd_questions] <= 1):.4f} @5 even {np.mean(ranks[even_questions] <= 5):.4f} "
              f"odd {np.mean(ranks[odd_questions] <= 5):.4f}")
    train = np.isin(data["group"], even_questions)
    model = LogisticRegression(C=args.C, max_iter=3000)
    model.fit(data["features"][train][:, 1:], data["labels"][train])
    answer_weights = np.concatenate([model.intercept_, model.coef_[0]])
    sentence_weights = fit_listwise(data, even_questions)
    for label, weights in (("listwise", sentence_weights), ("pointwise", answer_weights)):
        for name, questions in (("even (tuning)", even_questions), ("odd (holdout)", odd_questions),
                                ("all", all_questions)):
            hit1, hit3 = hits(data, weights, questions)
            print(f"{label:9s} {name:14s} quote hit@1 {hit1:.4f} hit@3 {hit3:.4f}  ({len(questions)} questions)")
    print_weights("SENTENCE_WEIGHTS", sentence_weights)
    print_weights("ANSWER_WEIGHTS", answer_weights)


if __name__ == "__main__":
    main()
