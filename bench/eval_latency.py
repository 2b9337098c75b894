"""Warm latency of `conflict-qa ask --questions FILE --json`, and of embedding the question alone.

    .venv/bin/python bench/eval_latency.py --index DIR [--squad FILE] [--count 1000] [--seed 0]

Writes COUNT questions sampled from the SQuAD file to a temporary file, runs the
batch command once (model and index load once), and reads `elapsed_ms` of every
answer: the time from receiving the question to having the answer, embedding
included. Then embeds the same questions one at a time in this process with the
same single PyTorch thread the service uses, as the reference. Prints p50/p95
of both and their ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from assistant.eval_data import load_squad

    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--squad", default=str(ROOT.parent / "shared/data/squad/dev-v1.1.json.gz"))
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    questions = [q.question for q in load_squad(Path(args.squad)).questions]
    sample = random.Random(args.seed).sample(questions, min(args.count, len(questions)))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(question.replace("\n", " ") for question in sample) + "\n")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "assistant", "ask", "--questions", handle.name, "--json",
                             "--index", args.index], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    Path(handle.name).unlink()
    if result.returncode != 0:
        raise SystemExit(result.stderr.strip().splitlines()[-1])
    elapsed = np.array([json.loads(line)["elapsed_ms"] for line in result.stdout.splitlines()])

    import torch

    from assistant.index.embedding import load_embedder
    from assistant.service import QUERY_TORCH_THREADS

    torch.set_num_threads(QUERY_TORCH_THREADS)
    embedder = load_embedder()
    embedder.encode(sample[:5])
    embed = []
    for question in sample:
        tick = time.perf_counter()
        embedder.encode([question])
        embed.append((time.perf_counter() - tick) * 1000)
    p50, p95 = np.percentile(elapsed, [50, 95])
    e50, e95 = np.percentile(embed, [50, 95])
    print(f"{len(elapsed)} questions, batch command {wall:.1f} s in all (start-up and loading included)")
    print(f"answer latency   p50 {p50:.1f} ms  p95 {p95:.1f} ms")
    print(f"embedding alone  p50 {e50:.1f} ms  p95 {e95:.1f} ms")
    print(f"ratio            p50 {p50 / e50:.2f}  p95 {p95 / e95:.2f}")


if __name__ == "__main__":
    main()
