"""Fit the sentence ranker and answer logit (assistant/search/ranker.json) on half of SQuAD v1.1 dev.

    .venv/bin/python bench/eval_fit.py --index DIR [--squad FILE] [--cache FEATURES.npz] [--write]

DIR is the index of the same SQuAD file (`conflict-qa eval FILE --index DIR` builds it).
Asks every question through QAService with a neutral ranker, records each
candidate sentence's features and whether it contains a gold answer, and fits
on the questions of even-numbered articles:
- ranking: a listwise model (softmax over one question's candidates, maximising
  the log-probability of the answer-bearing sentences) with `HIDDEN` tanh units
  plus a linear term over standardised features, L2 penalty `L2`, by L-BFGS;
  fitted from `SEEDS` starting points and averaged, which is again one such
  model with len(SEEDS) * HIDDEN units;
- answer: a pointwise logistic regression (scikit-learn), the absolute "this
  sentence answers" logit that feeds the evidence model.
Reports quote hit@1/@3 of the ranking on the odd-numbered articles (holdout),
the even ones and all, for the listwise model, a linear listwise model and the
pointwise one. `--write` stores the fitted models in assistant/search/ranker.json,
keeping its evidence model (bench/eval_abstain.py fits that one). Also prints
passage recall@1/@5 for RRF and several BM25 weights: how
retrieval.BM25_WEIGHT was chosen. scipy and scikit-learn are needed only here
(both come with sentence-transformers), not at run time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.eval_data import load_squad  # noqa: E402
from assistant.evaluation import contains_answer  # noqa: E402
from assistant.search.presence import PRESENCE_NAMES  # noqa: E402
from assistant.search.ranking import EVIDENCE_NAMES, FEATURE_NAMES, PASSAGES_PER_QUESTION  # noqa: E402
from assistant.search.retrieval import FusionMethod, PassageScores, fuse, top_rows  # noqa: E402
from assistant.search.scoring import RANKER_FILE, RankerModel  # noqa: E402
from assistant.settings import Settings  # noqa: E402

BM25_WEIGHTS = (0.0, 0.2, 0.35, 0.5, 0.75, 1.0)
HIDDEN = 8
L2 = 1e-3
SEED = 0
SEEDS = (0, 1, 2)


def neutral_model() -> RankerModel:
    """A ranker that scores everything 0: the features do not depend on it, so any will do."""
    size = len(FEATURE_NAMES)
    return RankerModel(features=FEATURE_NAMES, mean=np.zeros(size), scale=np.ones(size),
                       hidden=np.zeros((size, 1)), output=np.zeros(1), linear=np.zeros(size),
                       answer=np.zeros(size), evidence_names=EVIDENCE_NAMES,
                       evidence_weights=np.zeros(len(EVIDENCE_NAMES)), evidence_bias=1.0,
                       presence_names=PRESENCE_NAMES)


def collect(args: argparse.Namespace) -> dict[str, np.ndarray]:
    from assistant.service import QAService

    squad = load_squad(Path(args.squad))
    embedder = None
    if args.vectors:
        from assistant.evaluation import CachedEmbedder
        from assistant.index.embedding import load_embedder

        embedder = CachedEmbedder(load_embedder(Settings().model), Path(args.vectors))
        embedder.prepare([q.question for q in squad.questions])
    service = QAService(Settings(index_dir=Path(args.index)), ranker=neutral_model(), embedder=embedder)
    index = service.search_index
    features, labels, group, article = [], [], [], []
    passage_ranks: dict[str, list[int]] = {name: [] for name in ["rrf", *[f"w{w}" for w in BM25_WEIGHTS]]}
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
            hits = [index.documents[index.chunk_doc[row]].id == question.doc_id for row in top_rows(fused, 20)]
            passage_ranks[name].append(hits.index(True) + 1 if True in hits else 99)
        if number % 1000 == 0:
            print(f"{number} questions, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return {
        "features": np.concatenate(features), "labels": np.concatenate(labels).astype(bool),
        "group": np.concatenate(group), "article": np.array(article),
        **{f"rank_{name}": np.array(ranks) for name, ranks in passage_ranks.items()},
    }


def hits(data: dict[str, np.ndarray], scores: np.ndarray, questions: np.ndarray) -> tuple[float, float]:
    """Quote hit@1 and hit@3 over `questions` when candidates are ordered by `scores`."""
    hit1 = hit3 = 0
    bounds = np.searchsorted(data["group"], np.arange(len(data["article"]) + 1))
    for q in questions:
        lo, hi = bounds[q], bounds[q + 1]
        labels = data["labels"][lo:hi][np.argsort(-scores[lo:hi], kind="stable")[:3]]
        hit1 += bool(len(labels) and labels[0])
        hit3 += bool(labels.any())
    return hit1 / len(questions), hit3 / len(questions)


def fit_listwise(data: dict[str, np.ndarray], questions: np.ndarray, *, hidden: int = HIDDEN,
                 l2: float = L2, seed: int = SEED) -> dict[str, np.ndarray]:
    """Listwise model `tanh(z @ W) @ v + z @ u` over standardised features z (see module docstring).

    With `hidden=0` it is linear. Returns mean, scale, hidden (W), output (v), linear (u).
    """
    from scipy.optimize import minimize

    raw = data["features"]
    bounds = np.searchsorted(data["group"], np.arange(len(data["article"]) + 1))
    # Standardise on the fitting questions' candidates only: held-out questions must not
    # shape the model, not even through the feature scaling.
    fitting_rows = np.concatenate([np.arange(bounds[q], bounds[q + 1]) for q in questions])
    mean, scale = raw[fitting_rows].mean(axis=0), raw[fitting_rows].std(axis=0)
    mean[0], scale[0] = 0.0, 1.0  # the bias column stays 1
    scale[scale < 1e-9] = 1.0
    spans = [(bounds[q], bounds[q + 1]) for q in questions if data["labels"][bounds[q]:bounds[q + 1]].any()]
    rows = np.concatenate([np.arange(lo, hi) for lo, hi in spans])
    standard = (raw[rows] - mean) / scale
    labels = data["labels"][rows].astype(np.float64)
    group = np.concatenate([np.full(hi - lo, i) for i, (lo, hi) in enumerate(spans)])
    count, size = len(spans), raw.shape[1]

    def unpack(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cut = size * hidden
        return weights[:cut].reshape(size, hidden), weights[cut:cut + hidden], weights[cut + hidden:]

    def loss_and_gradient(weights: np.ndarray) -> tuple[float, np.ndarray]:
        w_hidden, w_output, w_linear = unpack(weights)
        activation = np.tanh(standard @ w_hidden)
        scores = activation @ w_output + standard @ w_linear
        best = np.full(count, -np.inf)
        np.maximum.at(best, group, scores)
        exp = np.exp(scores - best[group])
        total, positive = np.bincount(group, exp, count), np.bincount(group, exp * labels, count)
        loss = -np.mean(np.log(positive) - np.log(total)) + l2 * float(weights @ weights)
        d_scores = -(exp * labels / positive[group] - exp / total[group]) / count
        d_hidden = standard.T @ (np.outer(d_scores, w_output) * (1 - activation ** 2))
        gradient = np.concatenate([d_hidden.ravel(), activation.T @ d_scores, standard.T @ d_scores])
        return loss, gradient + 2 * l2 * weights

    start = np.concatenate([np.random.default_rng(seed).normal(0, 0.1, size * hidden + hidden), np.zeros(size)])
    result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B", options={"maxiter": 800})
    w_hidden, w_output, w_linear = unpack(result.x)
    return {"mean": mean, "scale": scale, "hidden": w_hidden, "output": w_output, "linear": w_linear}


def average(models: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The mean of listwise models sharing a standardisation, as one wider model."""
    return {"mean": models[0]["mean"], "scale": models[0]["scale"],
            "hidden": np.concatenate([m["hidden"] for m in models], axis=1),
            "output": np.concatenate([m["output"] for m in models]) / len(models),
            "linear": np.mean([m["linear"] for m in models], axis=0)}


def ranking_scores(data: dict[str, np.ndarray], ranking: dict[str, np.ndarray]) -> np.ndarray:
    standard = (data["features"] - ranking["mean"]) / ranking["scale"]
    return np.tanh(standard @ ranking["hidden"]) @ ranking["output"] + standard @ ranking["linear"]


def write_ranker(ranking: dict[str, np.ndarray], answer: np.ndarray, provenance: dict) -> None:
    """Store the models in assistant/search/ranker.json, keeping its evidence and presence models."""
    previous = json.loads(RANKER_FILE.read_text(encoding="utf-8")) if RANKER_FILE.exists() else {}
    evidence = previous.get("evidence") or {"names": list(EVIDENCE_NAMES),
                                            "weights": [0.0] * len(EVIDENCE_NAMES), "bias": 1.0}
    payload = {
        "fitted_by": "bench/eval_fit.py (ranking, answer) and bench/eval_abstain.py (evidence)",
        "features": list(FEATURE_NAMES),
        "ranking": {key: np.round(value, 6).tolist() for key, value in ranking.items()},
        "answer": np.round(answer, 6).tolist(),
        "evidence": evidence,
    }
    for key in ("presence", "fitted"):
        if key in previous:
            payload[key] = previous[key]
    payload.setdefault("fitted", {})["ranking_and_answer"] = provenance
    RANKER_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RANKER_FILE}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--squad", default=str(Path(__file__).resolve().parents[2] / "shared/data/squad/dev-v1.1.json.gz"))
    parser.add_argument("--cache", default=None, help="features .npz to reuse or write")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--vectors", default=None, help="question-vector cache (.npz) shared with bench/eval_all.py")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--write", action="store_true", help="store the fitted models in assistant/search/ranker.json")
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
    pointwise = LogisticRegression(C=args.C, max_iter=3000)
    pointwise.fit(data["features"][train][:, 1:], data["labels"][train])
    answer = np.concatenate([pointwise.intercept_, pointwise.coef_[0]])
    ranking = average([fit_listwise(data, even_questions, seed=seed) for seed in SEEDS])
    linear = fit_listwise(data, even_questions, hidden=0)
    for label, scores in (("listwise", ranking_scores(data, ranking)),
                          ("linear", ranking_scores(data, linear)),
                          ("pointwise", data["features"] @ answer)):
        for name, questions in (("even (tuning)", even_questions), ("odd (holdout)", odd_questions),
                                ("all", all_questions)):
            hit1, hit3 = hits(data, scores, questions)
            print(f"{label:9s} {name:14s} quote hit@1 {hit1:.4f} hit@3 {hit3:.4f}  ({len(questions)} questions)")
    if args.write:
        import datetime as dt
        import hashlib

        write_ranker(ranking, answer, {
            "script": "bench/eval_fit.py",
            "data": Path(args.squad).name,
            "data_sha256_16": hashlib.sha256(Path(args.squad).read_bytes()).hexdigest()[:16],
            "rows": "candidates of the questions of the EVEN articles (mean/scale too); odd held out",
            "questions": int(len(even_questions)),
            "settings": {"hidden": HIDDEN, "l2": L2, "seeds": list(SEEDS), "answer_C": args.C,
                         "passages_per_question": PASSAGES_PER_QUESTION},
            "date": dt.date.today().isoformat(),
        })


if __name__ == "__main__":
    main()
