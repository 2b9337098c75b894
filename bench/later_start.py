"""Benchmark: a later `python app.py` (the index already built) until it answers a question.

Run by hand (about a minute per start on 2 cores):

    .venv/bin/python bench/later_start.py --index DIR [--runs 3] [--question "..."]

Starts `python app.py --index DIR --port P` from this checkout and asks GET /api/ask
every 0.25 s until an answer comes back with `answered: true`; prints the seconds from
start to the first `/api/health` reply and to that first answer, and the 1-minute load
average at start and at the answer (the machine is shared). The first run deletes the
index's kept example questions (`checked-examples.json`), so it measures a start that
checks them in the background (and waits, after the answer, until they are kept); the later
runs read them back. Build DIR first, e.g. the
default archive: `.venv/bin/python -m assistant build --corpus corpus --index DIR`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How many people were killed in Kryvyi Rih?"
TIMEOUT_S = 600


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def one_start(index_dir: Path, question: str, log_path: Path, *, examples_timeout: float) -> dict[str, float]:
    """Seconds from starting the app to its first /api/health reply and its first answered /api/ask."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ask = f"{base}/api/ask?" + urllib.parse.urlencode({"question": question})
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    health_s = None
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "app.py", "--index", str(index_dir), "--port", str(port)],
                                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            while time.perf_counter() - started < TIMEOUT_S:
                if process.poll() is not None:
                    sys.exit(f"error: app.py exited with {process.returncode}; see {log_path}")
                if health_s is None and _get(f"{base}/api/health") is not None:
                    health_s = time.perf_counter() - started
                if health_s is not None and (_get(ask) or {}).get("answered"):
                    break
                time.sleep(0.25)
            else:
                sys.exit(f"error: no answer within {TIMEOUT_S} s; see {log_path}")
            answered_s = time.perf_counter() - started
            load_answer = os.getloadavg()[0]
            examples_s = None
            kept = index_dir / "checked-examples.json"
            waited = time.perf_counter()
            while time.perf_counter() - waited < examples_timeout:  # let the background check finish, keep them
                if kept.is_file():
                    examples_s = time.perf_counter() - started
                    break
                time.sleep(0.25)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return {"health_s": health_s or answered_s, "answered_s": answered_s, "load_start": load_start,
            "load_answer": load_answer, "examples_s": examples_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an index built beforehand")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--examples-timeout", type=float, default=300.0,
                        help="seconds to wait after the answer for the examples to be kept (0: do not wait, "
                             "e.g. for code that checks them before serving)")
    args = parser.parse_args()
    if not (args.index / "CURRENT").is_file():
        sys.exit(f"error: no index in {args.index}: build it first")
    (args.index / "checked-examples.json").unlink(missing_ok=True)
    print(f"index {args.index}, question {args.question!r}")
    print("run | examples kept from before | first /api/health | first answer | examples kept by | "
          "load average at start / at answer")
    for run in range(1, args.runs + 1):
        kept = (args.index / "checked-examples.json").is_file()
        result = one_start(args.index, args.question, Path(f"/tmp/later_start_{os.getpid()}_{run}.log"),
                           examples_timeout=args.examples_timeout)
        examples = "-" if kept or result["examples_s"] is None else f"{result['examples_s']:.1f} s"
        print(f"{run} | {'yes' if kept else 'no'} | {result['health_s']:.1f} s | {result['answered_s']:.1f} s | "
              f"{examples} | {result['load_start']:.2f} / {result['load_answer']:.2f}", flush=True)


if __name__ == "__main__":
    main()
