"""Cold-start time of `conflict-qa ask`: a fresh process, from launch to the printed answer.

    .venv/bin/python bench/cold_ask.py --index /tmp/news-index [--runs 7] [--question Q]

Prints, per run, the wall time of `python -m assistant ask QUESTION --index DIR` and the
1-minute load average when it started; then which heavy libraries the process imported
(from `python -X importtime`; none of torch, sentence-transformers, transformers, gradio,
fastapi should be there); then where the time of one more cold run goes (imports, index
load, search preparation, query model, language detector, the answer). Target (issue 10):
<= 2.5 s on the default index. The index's ONNX export is written first if it is missing
(that one-time export is not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "fastapi", "sklearn", "ray")
DEFAULT_QUESTION = "How many people were killed in Sumy?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--question", default=DEFAULT_QUESTION)
    parser.add_argument("--phases-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phases_child:
        phases_child(args.index, args.question)
        return
    command = [sys.executable, "-m", "assistant", "ask", args.question, "--index", str(args.index)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    warm = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=ROOT)
    if warm.returncode != 0:
        sys.exit(f"ask failed: {warm.stderr.strip()}")
    print(f"question: {args.question!r}; index: {args.index}")
    walls, cpus = [], []
    for run in range(1, args.runs + 1):
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0 or _answer(done.stdout) != _answer(warm.stdout):
            sys.exit(f"run {run}: exit {done.returncode} or a different answer: {done.stderr.strip()[:300]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {run}: {wall:.2f} s wall, {cpu:.2f} s CPU (load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"cold ask: median {statistics.median(walls):.2f} s wall (best {min(walls):.2f}, worst {max(walls):.2f}), "
          f"median {statistics.median(cpus):.2f} s CPU, over {len(walls)} runs; target <= 2.5 s")
    traced = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], env=environment,
                            capture_output=True, text=True, cwd=ROOT)
    imported = {line.rsplit("|", 1)[-1].strip() for line in traced.stderr.splitlines() if line.startswith("import time:")}
    heavy = [name for name in HEAVY if name in imported]
    print(f"heavy libraries imported by ask: {', '.join(heavy) or 'none'} (checked: {', '.join(HEAVY)})")
    load = os.getloadavg()[0]
    phases = subprocess.run([sys.executable, __file__, "--phases-child", "--index", str(args.index),
                             "--question", args.question], env=environment, capture_output=True, text=True, cwd=ROOT)
    if phases.returncode != 0:
        sys.exit(f"phase run failed: {phases.stderr.strip()[-500:]}")
    timings = json.loads(phases.stdout.strip().splitlines()[-1])
    print(f"one cold run, phase by phase (load average {load:.1f}):")
    for name in PHASES:
        print(f"  {name:<44} {timings.get(name, 0.0):6.2f} s")


PHASES = ("imports (cli, service, citations, store)", "index: load_index (segments, checks)",
          "index: retrieval.prepare (filters)", "index: outlet credits", "query model: ONNX session",
          "first answer (ask)", "  of which language check (detector wait)", "total in process")


def _answer(printed: str) -> str:
    """The printed answer without its "(123 ms)" timing line."""
    return re.sub(r"\(\d+ ms\)", "", printed)


def phases_child(index_dir: Path, question: str) -> None:
    """Run `ask` in this process with timers around each stage; print {phase: seconds} as JSON."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            begun = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - begun
        return wrapper

    import contextlib
    import io

    from assistant import cli
    import assistant.answers.citations  # noqa: F401 - what `ask` imports before it loads anything
    import assistant.index.onnx_embedding as onnx_embedding
    import assistant.index.store as store
    import assistant.service as service

    timings["imports (cli, service, citations, store)"] = time.perf_counter() - started
    store.load_index = timed("index: load_index (segments, checks)", store.load_index)
    service.prepare = timed("index: retrieval.prepare (filters)", service.prepare)
    service.credits_from_counts = timed("index: outlet credits", service.credits_from_counts)
    onnx_embedding.load_query_embedder = timed("query model: ONNX session", onnx_embedding.load_query_embedder)
    service.QAService.ask = timed("first answer (ask)", service.QAService.ask)
    service.QAService._check_language = timed("  of which language check (detector wait)",
                                              service.QAService._check_language)
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
        cli.main(["ask", question, "--index", str(index_dir)], standalone_mode=False)
    timings["total in process"] = time.perf_counter() - started
    print(json.dumps({name: round(seconds, 3) for name, seconds in timings.items()}))


if __name__ == "__main__":
    main()
