"""The Ray build against the local build on the same corpus: overhead and throughput per actor.

    .venv/bin/python bench/ray_build.py [--corpus PATH] [--limit N] [--work DIR] [--address ADDRESS]

Runs `conflict-qa build --full --json` twice into fresh folders under --work, first locally,
then with `--ray [ADDRESS]` (none: a local Ray on this machine, one actor per CPU), each in
a fresh process as a user runs it, and prints for each: the process's wall time, the build's
own time (`seconds`: splitting, embedding, writing; not reading the corpus or writing the
ONNX export), the texts embedded, and per Ray actor the documents, texts, seconds busy,
texts per second and model load time. Target (issue 10): Ray build <= 1.2x the local build.
Also checks that both indexes hold the same documents and spans. Needs the ray extra.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "conflict-news" / "conflict_news.jsonl.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=NEWS)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N records of a JSONL(.gz) corpus.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/conflict-qa-ray-bench"))
    parser.add_argument("--address", default=None, help="A Ray cluster (default: a local Ray).")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus
    if args.limit:
        corpus = args.work / f"first-{args.limit}.jsonl"
        opener = gzip.open if args.corpus.suffix == ".gz" else open
        with opener(args.corpus, "rt", encoding="utf-8") as source:
            lines = [line for _, line in zip(range(args.limit), source)]
        corpus.write_text("".join(lines), encoding="utf-8")
    print(f"corpus: {corpus}; cores: {os.cpu_count()}")
    runs = {}
    for name, extra in (("local", []), ("ray", ["--ray", *([args.address] if args.address else [])])):
        index_dir = args.work / name
        shutil.rmtree(index_dir, ignore_errors=True)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "assistant", "build", "--corpus", str(corpus), "--index",
                               str(index_dir), "--full", "--json", *extra], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{name} build failed: {done.stderr.strip()[-800:]}")
        report = json.loads(done.stdout)
        runs[name] = (wall, report)
        print(f"{name:>5}: process {wall:7.1f} s, build {report['seconds']:7.1f} s, {report['documents']:,} documents, "
              f"{report['embedded_texts']:,} texts embedded (load average {load:.1f} at start)")
        for actor in report.get("ray_actors", []):
            print(f"       actor {actor['actor']}: {actor['documents']:,} documents, {actor['texts']:,} texts, "
                  f"{actor['seconds']:.1f} s busy, {actor['texts_per_second']:.1f} texts/s, "
                  f"model loaded in {actor['load_seconds']:.1f} s")
    (local_wall, local), (ray_wall, on_ray) = runs["local"], runs["ray"]
    print(f"Ray / local: build {on_ray['seconds'] / local['seconds']:.2f}x, process {ray_wall / local_wall:.2f}x "
          "(target <= 1.2x)")
    same = _same_spans(args.work / "local", args.work / "ray")
    print(f"same documents and spans: {same}")


def _same_spans(local: Path, on_ray: Path) -> bool:
    import numpy as np

    from assistant.index.store import load_index

    a, b = load_index(local), load_index(on_ray)
    return list(a.documents) == list(b.documents) and all(
        np.array_equal(getattr(a, name), getattr(b, name))
        for name in ("chunk_start", "chunk_end", "sentence_start", "sentence_end", "sentence_chunk"))


if __name__ == "__main__":
    main()
