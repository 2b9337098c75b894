"""Recall of the IVF-PQ vector index kind against exact search, and its search time per question.

Two measurements (issue 10: "candidate recall@20 >= 0.95 against exact search"):

    # real all-MiniLM-L6-v2 vectors: the chunk and sentence rows of built indexes, real questions
    nice -n 15 .venv/bin/python bench/ivf_recall.py real --index /tmp/final-eval/news \\
        /tmp/final-eval/squad11 /tmp/final-eval/squad20 --questions /tmp/final-eval/question-vectors.npz

    # a grid of (nprobe, re-rank depth) on bench/scale.py's synthetic archives: chosen on one
    # index with one question sample, reported on another index with other questions
    nice -n 15 .venv/bin/python bench/ivf_recall.py archive --choose /tmp/store/scale/index-100000 \\
        --report /tmp/store/scale/index-300000 --model /tmp/store/scale/static-random-256

recall@20 is bench/scale.py's: the share of the approximate top 20 whose exact score reaches
the exact 20th score (ties count: archives repeat sentences). Search time is one question at a
time, one thread, `VectorIndex.search` alone (the compressed scan and the exact re-rank), the
fastest of three passes over the questions.
Nothing reported is chosen on the questions it is reported on: `real` splits the questions in
two seeded halves (the setting is chosen on the first, every setting reported on the second);
`archive` chooses with bench/scale.py's question sample seed 1 on the `--choose` index and
reports with sample seed 2 (less any seed-1 question) on the `--report` index.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET = 0.95
K = 20


def exact_kth(stored: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Per query, the exact k-th best score over `stored` (computed once, shared by every setting)."""
    return np.array([np.partition(stored @ query, len(stored) - k)[len(stored) - k] for query in queries])


def recall_at_k(index, stored: np.ndarray, queries: np.ndarray, kth: np.ndarray, *, k: int = K,
                repeats: int = 3) -> tuple[float, float]:
    """(mean recall@k against exact search over `stored`, ms per `index.search`: the fastest of
    `repeats` passes over the queries, so that other jobs on the machine blur the comparison less)."""
    hits, passes = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        found = [index.search(query, k)[1] for query in queries]
        passes.append(time.perf_counter() - started)
    for query, threshold, rows in zip(queries, kth, found):
        hits.append(float(np.sum(stored[np.sort(rows)] @ query >= threshold - 1e-6)) / k)
    return float(np.mean(hits)), 1000 * min(passes) / len(queries)


def forced_spec(rows: int, dimension: int):
    """The IVF spec `choose_spec` gives `rows` rows when the flat threshold is set below them."""
    from assistant.index import vectors

    with mock.patch.object(vectors, "FLAT_MAX_ROWS", 0):
        return vectors.choose_spec(rows, dimension)


def nlist_of(spec) -> int:
    return int(spec.factory.split(",")[0].removeprefix("IVF"))


def settings_grid(spec, shares: tuple[float, ...], reranks: tuple[int, ...]) -> list:
    """The spec with nprobe = share x nlist and each re-rank depth."""
    nlist = nlist_of(spec)
    return [replace(spec, nprobe=max(1, round(nlist * share)), rerank=rerank)
            for rerank in reranks for share in shares]


def cheapest(results: list[dict]) -> dict | None:
    """The fastest setting reaching `TARGET` (None when none does)."""
    reaching = [row for row in results if row["recall"] >= TARGET]
    return min(reaching, key=lambda row: row["ms"]) if reaching else None


def _setting(spec) -> str:
    share = Fraction(spec.nprobe, nlist_of(spec))
    share_text = f"nlist/{share.denominator}" if share.numerator == 1 else f"{share} nlist"
    return f"nprobe {spec.nprobe} ({share_text}), re-rank {spec.rerank}"


def measure(index, stored: np.ndarray, queries: np.ndarray, specs: list) -> list[dict]:
    from assistant.index import vectors
    from assistant.index.vectors import VectorIndex

    rows = []
    kth = exact_kth(stored, queries)
    for spec in specs:
        variant = VectorIndex(index.faiss_index, spec, index.vectors)
        with mock.patch.object(vectors, "NPROBE_SHARE", 0.0):  # search with spec.nprobe, even below the default
            variant.search(queries[0], K)  # warm-up: first touch of the memory-mapped rows
            assert variant.nprobe == spec.nprobe
            recall, ms = recall_at_k(variant, stored, queries, kth)
        rows.append({"setting": _setting(spec), "nprobe": spec.nprobe, "rerank": spec.rerank,
                     "recall": round(recall, 3), "ms": round(ms, 2)})
    return rows


# ---------------------------------------------------------------- real MiniLM vectors


def run_real(args: argparse.Namespace) -> None:
    from assistant.index.store import load_index
    from assistant.index.vectors import NPROBE_SHARE, RERANK_ROWS, VectorIndex

    pools: dict[str, list[np.ndarray]] = {"chunks": [], "sentences": []}
    for folder in args.index:
        loaded = load_index(folder)
        pools["chunks"].append(np.asarray(loaded.chunk_vectors(), dtype=np.float32))
        pools["sentences"].append(np.asarray(loaded.sentence_vectors(), dtype=np.float32))
        print(f"# {folder}: model {loaded.manifest.model}, {loaded.manifest.chunks:,} chunks, "
              f"{loaded.manifest.sentences:,} sentences", flush=True)
    pools = {name: np.concatenate(parts) for name, parts in pools.items()}
    pools = {"chunks and sentences": np.concatenate([pools["chunks"], pools["sentences"]]), **pools}
    with np.load(args.questions) as cached:
        questions = np.ascontiguousarray(cached["vectors"], dtype=np.float32)
    order = np.random.default_rng(args.seed).permutation(len(questions))
    fit, held_out = questions[order[: len(order) // 2]], questions[order[len(order) // 2:]]
    if args.limit:
        fit, held_out = fit[: args.limit], held_out[: args.limit]
    print(f"# {len(questions):,} question vectors: {len(fit):,} to choose on, {len(held_out):,} held out "
          f"(split seed {args.seed}); load average {os.getloadavg()[0]:.1f}", flush=True)
    for name, stored in pools.items():
        spec = forced_spec(len(stored), stored.shape[1])
        started = time.perf_counter()
        index = VectorIndex.build(stored, spec)
        build_s = time.perf_counter() - started
        grid = settings_grid(spec, (1 / 8, 1 / 4, NPROBE_SHARE, 1 / 2), (RERANK_ROWS,) + tuple(args.extra_rerank))
        chosen = cheapest(measure(index, stored, fit, grid))
        reported = measure(index, stored, held_out, grid)
        print(f"\n## {name}: {len(stored):,} rows, {spec.factory} (built in {build_s:.1f} s); "
              f"chosen on the first half: {chosen['setting'] if chosen else 'none reaches ' + str(TARGET)}")
        print("| setting | recall@20 (held-out half) | ms per question |\n|---|---|---|")
        for row in reported:
            mark = " (chosen)" if chosen and row["setting"] == chosen["setting"] else ""
            print(f"| {row['setting']}{mark} | {row['recall']:.3f} | {row['ms']:.2f} |")
        print(json.dumps({"pool": name, "rows": len(stored), "factory": spec.factory,
                          "chosen": chosen and chosen["setting"], "held_out": reported}), flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


# ---------------------------------------------------------------- synthetic archives (bench/scale.py)


def stored_vector_index(index_dir: Path, name: str):
    """An IVF-PQ index of every stored `name` row ("chunks", "sentences") of the index, of the kind a
    segment of that many rows gets (a month of news is far smaller and exact: the kind matters for
    segments over `FLAT_MAX_ROWS` rows)."""
    from assistant.index.store import load_index
    from assistant.index.vectors import VectorIndex

    loaded = load_index(index_dir)
    stored = np.asarray(loaded.chunk_vectors() if name == "chunks" else loaded.sentence_vectors(), dtype=np.float32)
    return VectorIndex.build(stored, forced_spec(len(stored), stored.shape[1]))


def run_archive(args: argparse.Namespace) -> None:
    from assistant.index.embedding import load_embedder
    from bench.scale import questions

    embedder = load_embedder(str(args.model))
    choose_questions = questions(args.questions, seed=1)
    report_questions = [q for q in questions(args.questions + 50, seed=2) if q not in set(choose_questions)]
    report_questions = report_questions[: args.questions]
    shares, reranks = tuple(args.shares), tuple(args.rerank)
    chosen = None
    for role, folder, asked in (("choose", args.choose, choose_questions), ("report", args.report, report_questions)):
        queries = embedder.encode(asked)
        print(f"\n## {role}: {folder}, {len(asked)} questions (sample seed {1 if role == 'choose' else 2}); "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        for name in args.kinds:
            index = stored_vector_index(folder, name)
            stored = np.asarray(index.vectors)
            grid = settings_grid(index.spec, shares, reranks)
            rows = measure(index, stored, queries, grid)
            print(f"### {name}: {index.count:,} rows, {index.spec.factory}, recorded "
                  f"nprobe {index.spec.nprobe}, re-rank {index.spec.rerank}")
            print("| setting | recall@20 | ms per question |\n|---|---|---|")
            for row in rows:
                print(f"| {row['setting']} | {row['recall']:.3f} | {row['ms']:.2f} |")
            if role == "choose" and name == "chunks":
                chosen = cheapest(rows)
                print(f"chosen (cheapest reaching {TARGET}): {chosen['setting'] if chosen else 'none'}")
            print(json.dumps({"role": role, "index": str(folder), "vectors": name, "rows": rows}), flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    real = sub.add_parser("real", help="real MiniLM vectors of built indexes, real question vectors")
    real.add_argument("--index", type=Path, nargs="+", required=True)
    real.add_argument("--questions", type=Path, required=True, help="an .npz with a `vectors` array")
    real.add_argument("--seed", type=int, default=0, help="seed of the two-halves split")
    real.add_argument("--limit", type=int, default=0, help="questions per half (0: all)")
    real.add_argument("--extra-rerank", type=int, nargs="*", default=[256])
    archive = sub.add_parser("archive", help="bench/scale.py archives: choose on one, report on another")
    archive.add_argument("--choose", type=Path, required=True)
    archive.add_argument("--report", type=Path, required=True)
    archive.add_argument("--model", type=Path, required=True)
    archive.add_argument("--questions", type=int, default=200)
    archive.add_argument("--shares", type=float, nargs="+", default=[0.25, 0.375, 0.5, 0.75],
                         help="nprobe = share x nlist")
    archive.add_argument("--rerank", type=int, nargs="+", default=[256, 512, 1024, 2048])
    archive.add_argument("--kinds", nargs="+", default=["chunks", "sentences"])
    args = parser.parse_args()
    import faiss

    faiss.omp_set_num_threads(1)
    {"real": run_real, "archive": run_archive}[args.command](args)


if __name__ == "__main__":
    main()
