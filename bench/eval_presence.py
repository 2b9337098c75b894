"""Fit the answer-presence check (the "presence" entry of assistant/search/ranker.json).

    .venv/bin/python bench/eval_presence.py --squad DETAILS.jsonl [--conflict DETAILS.jsonl] [--write]

DETAILS files are written by `conflict-qa eval FILE --details DETAILS.jsonl`, which keeps,
per question, the best candidates' `presence_features` (search/presence.py PRESENCE_NAMES),
their own evidence logit, whether they hold a gold answer (whole words) and whether they
are about the right answer's event or article. Nothing is retrieved again here.

- `--squad`: the SQuAD v2.0 half (dev-v2.0.cs224n-half.json.gz, all articles). A logistic
  regression (scipy L-BFGS-B, L2 as scikit-learn's C=`C`, each weight bounded to the direction
  in `SIGNS`, features standardised on the fitting rows) is fitted
  on the best candidate of each question of the EVEN articles, label "answerable".
  `threshold` is the largest logit cut at which at least `ANSWERED_TARGET` of the even
  half's answerable questions are still answered (evidence and presence both passed).
- `extra_threshold`: the logit every quote after the first must reach on its own; the
  smallest cut at which at least `ON_TOPIC_TARGET` of the even half's extra quotes are
  about the right article (SQuAD even articles, plus the even lines of `--conflict`,
  the conflict question set on its own index, topic = the item's thread).

Prints the fitted half's and the held-out (odd) half's figures, simulated from the
stored candidates (duplicate merging and date windows are not simulated; the
real figures come from bench/eval_all.py). `--write` stores the model with a record
of what it was fitted on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.answers.answer import ANSWER_THRESHOLD, EXTRA_QUOTE_MARGIN, MAX_QUOTES  # noqa: E402
from assistant.search.presence import PRESENCE_NAMES  # noqa: E402
from assistant.search.scoring import RANKER_FILE  # noqa: E402

ANSWERED_TARGET = 0.90
"""Share of the fitting half's answerable questions that must stay answered (the target asked
of the held-out half, >= 0.90, applied to the fitting half)."""
ON_TOPIC_TARGET = 0.90
"""Share of the fitting half's extra quotes that must be about the right event or article."""
C = 1.0
SIGNS = {
    "support": 1, "sentence_dense": 1, "passage_dense": 1, "coverage": 1, "window_coverage": 1,
    "passage_coverage": 1, "title_coverage": 1, "bigram_overlap": 1, "rarest_term_present": 1,
    "score_gap_next": 1, "known_term_share": 1,
    "kind_missing": -1, "missing_window_idf": -1, "missing_passage_idf": -1, "missing_window_share": -1,
    "question_numbers_missing": -1, "least_missing_idf": -1, "names_missing_window": -1,
    "names_missing_passage": -1, "negation_unmatched": -1, "numbers_missing_window": -1,
}
"""The direction each signal may push: more of the question found means more likely answered.
Signals not listed (rank_gap, the answer-type indicators) get weight 0. Without these bounds
the fit learnt SQuAD v2.0's artefacts (its unanswerable questions copy the paragraph's words,
so full coverage counted *against* answering) and declined "How many people were killed in
Belgorod?" on a two-document index."""


def fit_signed(inputs: np.ndarray, labels: np.ndarray, *, names: tuple[str, ...] = PRESENCE_NAMES,
               signs: dict[str, int] = SIGNS) -> tuple[np.ndarray, float]:
    """Logistic regression (L2 = 1 / (2 C n)) with each weight of `names` bounded to its sign in `signs`."""
    from scipy.optimize import minimize

    count, size = inputs.shape
    y = labels.astype(np.float64)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = params[:size], params[size]
        z = inputs @ weights + bias
        p = 1.0 / (1.0 + np.exp(-z))
        value = np.mean(np.logaddexp(0, z) - y * z) + weights @ weights / (2 * C * count)
        gradient = np.concatenate([inputs.T @ (p - y) / count + weights / (C * count), [np.mean(p - y)]])
        return value, gradient

    bounds = [((0, None) if signs.get(name) == 1 else (None, 0) if signs.get(name) == -1 else (0, 0))
              for name in names] + [(None, None)]
    result = minimize(loss, np.zeros(size + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return result.x[:size], float(result.x[size])


def read(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def top_features(records: list[dict]) -> np.ndarray:
    size = len(PRESENCE_NAMES)
    return np.array([r["candidates"][0]["presence_features"] if r["candidates"] else [0.0] * size
                     for r in records], dtype=np.float64)


def passes_evidence(records: list[dict]) -> np.ndarray:
    return np.array([r["evidence"] is not None and r["evidence"] >= ANSWER_THRESHOLD for r in records])


def extras(records: list[dict], logit, cut: float) -> tuple[int, int]:
    """(extra quotes, of which on topic) when extras need presence >= `cut` (answered questions only)."""
    total = on_topic = 0
    for record in records:
        candidates = record["candidates"]
        if not candidates:
            continue
        first = candidates[0]
        kept = 0
        for candidate in candidates[1:]:
            if kept >= MAX_QUOTES - 1:
                break
            if (candidate["score"] < first["score"] - EXTRA_QUOTE_MARGIN
                    or candidate["own_evidence"] < ANSWER_THRESHOLD
                    or logit(np.array([candidate["presence_features"]]))[0] < cut):
                continue
            kept += 1
            total += 1
            on_topic += bool(candidate["on_topic"])
    return total, on_topic


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", required=True, help="details of the SQuAD v2.0 half, all articles")
    parser.add_argument("--conflict", default=None, help="details of the conflict questions on their own index")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    squad = read(args.squad)
    article = np.array([r["article"] for r in squad])
    even, odd = article % 2 == 0, article % 2 == 1
    answerable = np.array([r["answerable"] for r in squad])
    features = top_features(squad)
    mean, scale = features[even].mean(axis=0), features[even].std(axis=0)
    scale[scale < 1e-9] = 1.0
    weights, bias = fit_signed((features[even] - mean) / scale, answerable[even])

    def logit(rows: np.ndarray) -> np.ndarray:
        return ((rows - mean) / scale) @ weights + bias

    evidence = passes_evidence(squad)
    scores = logit(features)
    fit_answerable = even & answerable
    candidates_cut = np.sort(scores[fit_answerable & evidence])[::-1]
    needed = int(np.ceil(ANSWERED_TARGET * fit_answerable.sum()))
    threshold = float(candidates_cut[min(needed, len(candidates_cut)) - 1]) if len(candidates_cut) else 0.0
    answered = evidence & (scores >= threshold)
    for name, half in (("odd (held out)", odd), ("even (fitted)", even)):
        print(f"SQuAD v2.0 half, {name:15s}: answerable answered {answered[half & answerable].mean():.3f} "
              f"({(half & answerable).sum()}), unanswerable declined {(~answered[half & ~answerable]).mean():.3f} "
              f"({(half & ~answerable).sum()})")

    conflict = read(args.conflict) if args.conflict else []
    conflict_even = [r for r in conflict if r["article"] % 2 == 0]
    conflict_odd = [r for r in conflict if r["article"] % 2 == 1]
    squad_answered = [r for r, ok in zip(squad, answered) if ok]
    squad_even = [r for r, a in zip(squad_answered, [x["article"] % 2 == 0 for x in squad_answered]) if a]
    squad_odd = [r for r in squad_answered if r["article"] % 2 == 1]
    fitting = squad_even + [r for r in conflict_even if r["evidence"] >= ANSWER_THRESHOLD]
    extra_threshold = threshold
    for cut in np.arange(threshold, threshold + 12.0, 0.25):
        total, on_topic = extras(fitting, logit, cut)
        extra_threshold = float(cut)
        if total == 0 or on_topic / total >= ON_TOPIC_TARGET:
            break
    for name, records in (("SQuAD odd (held out)", squad_odd), ("SQuAD even (fitted)", squad_even),
                          ("conflict odd lines (held out)", conflict_odd),
                          ("conflict even lines (fitted)", conflict_even)):
        total, on_topic = extras(records, logit, extra_threshold)
        print(f"extra quotes, {name:30s}: {total} on topic {on_topic / total if total else float('nan'):.3f}")
    print(f"presence threshold {threshold:.4f}, extra threshold {extra_threshold:.4f}")
    if args.write:
        payload = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
        payload["presence"] = {
            "names": list(PRESENCE_NAMES), "mean": np.round(mean, 6).tolist(),
            "scale": np.round(scale, 6).tolist(), "weights": np.round(weights, 6).tolist(),
            "bias": round(bias, 6), "threshold": round(threshold, 4), "extra_threshold": round(extra_threshold, 4),
        }
        payload.setdefault("fitted", {})["presence"] = {
            "script": "bench/eval_presence.py",
            "data": {"squad_details": args.squad, "squad_details_sha256_16": sha256(args.squad),
                     "squad_file": "dev-v2.0.cs224n-half.json.gz",
                     "conflict_details": args.conflict,
                     "conflict_file": "bench/data/conflict_questions.jsonl" if args.conflict else None},
            "rows": "the best candidate of each question of the EVEN articles (SQuAD v2.0 half); "
                    "extra_threshold: even articles and even lines only",
            "questions": int(even.sum()),
            "settings": {"C": C, "signs": SIGNS, "answered_target": ANSWERED_TARGET, "on_topic_target": ON_TOPIC_TARGET,
                         "standardised_on": "even rows"},
            "date": dt.date.today().isoformat(),
        }
        RANKER_FILE.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RANKER_FILE}")


if __name__ == "__main__":
    main()
