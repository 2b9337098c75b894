"""Does a reading signal from the frozen all-MiniLM-L6-v2 help the presence check? (experiment)

    .venv/bin/python bench/eval_reader.py --details DETAILS.jsonl [--features READER.npz] [--top 1]

DETAILS: `bench/eval_all.py`'s `squad20.details.jsonl` (the SQuAD v2.0 half, every
candidate with its `window`: title | sentence with its neighbours). For the best `--top`
candidates of every question it computes, with the embedding model the index already uses
(no other model, no network):
- token alignment: question and window encoded apart; for each question content token (not
  an English stop word, sklearn's list) its best cosine to any window token; minimum, mean,
  share below 0.5 / 0.6 / 0.7, second lowest (an asked-for detail with no counterpart);
- a joint pass: "question [SEP] window" through the same encoder; mean output vector of the
  question part, of the window part, and their product (1,152 numbers).
Each set feeds a linear probe (logistic regression, label: the window holds a gold answer,
whole words) fitted on the EVEN articles; even rows get out-of-fold logits (5 folds by
article) so the next step never sees in-sample scores. The presence logistic of
bench/eval_presence.py is then refitted with the best candidate's probe logit as one more
signal (weight bounded >= 0), its threshold set for 0.90 of the even half's answerable
questions answered, and the ODD half's figures printed (simulated from the stored
candidates, as eval_presence.py does). The features are cached in `--features`.
Slow on a loaded 2-core machine: about 27 minutes for 6,078 windows (one thread).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_presence import ANSWERED_TARGET, SIGNS, fit_signed, passes_evidence, read, top_features  # noqa: E402

from assistant.search.presence import PRESENCE_NAMES  # noqa: E402

SQUAD20 = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad" / "dev-v2.0.cs224n-half.json.gz"
if not SQUAD20.exists():
    SQUAD20 = Path("/work/shared/data/squad/dev-v2.0.cs224n-half.json.gz")


def reading_features(records: list[dict], top: int) -> dict[str, np.ndarray]:
    """Alignment (n, 6) and joint (n, 1152) features of each question's best `top` candidates."""
    import torch
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from assistant.eval_data import load_squad
    from assistant.index.embedding import load_embedder
    from assistant.settings import Settings

    torch.set_num_threads(1)  # shared cores
    questions = {q.id: q for q in load_squad(SQUAD20).questions}
    model = load_embedder(Settings().model).model
    tokenizer, encoder = model.tokenizer, model[0].auto_model.eval()
    pairs, meta = [], []
    for record in records:
        question = questions[record["question_id"]]
        for rank, candidate in enumerate(record["candidates"][:top]):
            pairs.append((question.question, candidate["window"]))
            meta.append((question.article, int(bool(question.answers)), int(bool(candidate["answer"])), rank))
    align = np.zeros((len(pairs), 6), dtype=np.float32)
    joint = np.zeros((len(pairs), 3 * 384), dtype=np.float32)

    @torch.no_grad()
    def token_vectors(texts: list[str], max_length: int):
        encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        return encoded, torch.nn.functional.normalize(encoder(**encoded).last_hidden_state, dim=-1)

    started, batch = time.perf_counter(), 16
    for start in range(0, len(pairs), batch):
        asked = [q for q, _ in pairs[start:start + batch]]
        windows = [w for _, w in pairs[start:start + batch]]
        q_encoded, q_vectors = token_vectors(asked, 64)
        w_encoded, w_vectors = token_vectors(windows, 160)
        for i in range(len(asked)):
            length = int(q_encoded["attention_mask"][i].sum())
            tokens = tokenizer.convert_ids_to_tokens(q_encoded["input_ids"][i][:length].tolist())
            content = torch.tensor([t.isalnum() and t not in ENGLISH_STOP_WORDS and t not in ("[CLS]", "[SEP]")
                                    for t in tokens])
            wanted = q_vectors[i][:length][content]
            found = w_vectors[i][1:int(w_encoded["attention_mask"][i].sum()) - 1]
            if len(wanted) and len(found):
                best = (wanted @ found.T).max(dim=1).values.numpy()
                low = np.sort(best)
                align[start + i] = [low[0], best.mean(), (best < 0.5).mean(), (best < 0.6).mean(),
                                    (best < 0.7).mean(), low[min(1, len(low) - 1)]]
        with torch.no_grad():
            encoded = tokenizer(asked, windows, padding=True, truncation="only_second", max_length=192,
                                return_tensors="pt")
            hidden = encoder(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            second = encoded["token_type_ids"].unsqueeze(-1).float() * mask
            first = mask - second
            asked_mean = (hidden * first).sum(1) / first.sum(1).clamp(min=1)
            window_mean = (hidden * second).sum(1) / second.sum(1).clamp(min=1)
            joint[start:start + len(asked)] = torch.cat([asked_mean, window_mean, asked_mean * window_mean], 1).numpy()
        if start % 512 == 0:
            print(f"{start} windows, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return {"align": align, "joint": joint, "meta": np.array(meta)}


def probe_logits(x: np.ndarray, labels: np.ndarray, article: np.ndarray, C: float) -> np.ndarray:
    """Probe logits: out-of-fold (5 folds by article) on even rows, fitted on all even rows for odd."""
    from sklearn.linear_model import LogisticRegression

    even_rows = article % 2 == 0
    out = np.zeros(len(x))
    folds = np.unique(article[even_rows])
    for fold in range(5):
        held = even_rows & np.isin(article, folds[fold::5])
        model = LogisticRegression(C=C, max_iter=2000).fit(x[even_rows & ~held], labels[even_rows & ~held])
        out[held] = model.decision_function(x[held])
    model = LogisticRegression(C=C, max_iter=2000).fit(x[even_rows], labels[even_rows])
    out[~even_rows] = model.decision_function(x[~even_rows])
    return out


def presence_figures(records: list[dict], extra: np.ndarray | None) -> str:
    """Refit the presence check (with `extra` as one more signal) on even; figures of both halves."""
    from sklearn.metrics import roc_auc_score

    article = np.array([r["article"] for r in records])
    even, odd = article % 2 == 0, article % 2 == 1
    answerable = np.array([r["answerable"] for r in records])
    features = top_features(records)
    names = PRESENCE_NAMES
    if extra is not None:
        features, names = np.column_stack([features, extra]), (*PRESENCE_NAMES, "reader")
    mean, scale = features[even].mean(axis=0), features[even].std(axis=0)
    scale[scale < 1e-9] = 1.0
    weights, bias = fit_signed((features[even] - mean) / scale, answerable[even], names=names,
                               signs={**SIGNS, "reader": 1})
    scores = ((features - mean) / scale) @ weights + bias
    evidence = passes_evidence(records)
    fitting = even & answerable
    cuts = np.sort(scores[fitting & evidence])[::-1]
    answered = evidence & (scores >= cuts[int(np.ceil(ANSWERED_TARGET * fitting.sum())) - 1])
    halves = " | ".join(f"{name}: answered {answered[half & answerable].mean():.3f}, unanswerable declined "
                        f"{(~answered[half & ~answerable]).mean():.3f}" for name, half in (("odd", odd), ("even", even)))
    weight = f" | reader weight {weights[-1]:.3f}" if extra is not None else ""
    return f"{halves} | odd ROC AUC {roc_auc_score(answerable[odd], scores[odd]):.3f}{weight}"


def main() -> None:
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    parser = argparse.ArgumentParser()
    parser.add_argument("--details", required=True)
    parser.add_argument("--features", default=None, help="reading features .npz to reuse or write")
    parser.add_argument("--top", type=int, default=1)
    args = parser.parse_args()
    records = read(args.details)
    if args.features and Path(args.features).exists():
        data = dict(np.load(args.features))
    else:
        data = reading_features(records, args.top)
        if args.features:
            np.savez(args.features, **data)
    article, labels, rank = data["meta"][:, 0], data["meta"][:, 2], data["meta"][:, 3]
    question_number = np.cumsum(rank == 0) - 1
    print(f"lexical signals only          {presence_figures(records, None)}")
    for label, x, C in (("alignment", data["align"], 1.0), ("joint, C=0.01", data["joint"], 0.01),
                        ("joint, C=0.1", data["joint"], 0.1),
                        ("alignment+joint, C=0.01", np.column_stack([data["align"], data["joint"]]), 0.01)):
        x = StandardScaler().fit(x[article % 2 == 0]).transform(x)
        logits = probe_logits(x, labels, article, C)
        best = np.full(len(records), -10.0)
        best[question_number[rank == 0]] = logits[rank == 0]
        odd_rows = article % 2 == 1
        print(f"probe {label}: window holds the answer, odd ROC AUC {roc_auc_score(labels[odd_rows], logits[odd_rows]):.3f}")
        print(f"  + {label:26s} {presence_figures(records, best)}")


if __name__ == "__main__":
    main()
