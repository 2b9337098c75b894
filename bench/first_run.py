"""Benchmark: the first `python app.py` on a fresh clone, until it answers, then a second start.

Run by hand (about 4-5 minutes on 2 cores):

    .venv/bin/python bench/first_run.py [--keep DIR]

Exports the committed tree (`git archive HEAD`, so index/ is empty as in a fresh
clone) into a temporary folder, links this checkout's .venv into it, starts
`python app.py --port P` there and asks GET /api/ask once a second until an answer
comes back with `answered: true`. Prints the seconds from start to that first
answer (the newest 400 documents of corpus/ are indexed on the way; the question is
about a report of August 2026, so it is in that slice), then polls /api/health until
the background build has indexed all of corpus/ and prints that time too. Then it
stops the app, starts it again on the index it built and prints the first-answer
time of the second start. The load average (1 minute) is printed at each start, since the machine is
shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How many people were killed in Kryvyi Rih?"
CORPUS_DOCUMENTS = 3277
TIMEOUT_S = 1800


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def first_answer(clone: Path, log_path: Path, *, wait_for_all: bool = False) -> tuple[float, float | None]:
    """Seconds from starting `python app.py` in `clone` to its first answered /api/ask, and (with
    `wait_for_all`) to /api/health reporting every document of corpus/."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/ask?" + urllib.parse.urlencode({"question": QUESTION})
    env = {**os.environ, "PYTHONPATH": str(clone)}
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(clone / ".venv" / "bin" / "python"), "app.py", "--port", str(port)],
                                   cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while time.perf_counter() - started < TIMEOUT_S:
                if process.poll() is not None:
                    sys.exit(f"error: app.py exited with {process.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(url, timeout=30) as response:
                        if json.load(response).get("answered"):
                            break
                except (urllib.error.URLError, OSError, ValueError):
                    pass
                time.sleep(1.0)
            answered = time.perf_counter() - started
            print(f"  first answer after {answered:.1f} s (load average {os.getloadavg()[0]:.2f})", flush=True)
            if not wait_for_all:
                return answered, None
            health = url.split("/api/ask")[0] + "/api/health"
            while time.perf_counter() - started < TIMEOUT_S:
                try:
                    with urllib.request.urlopen(health, timeout=30) as response:
                        if json.load(response).get("documents") == CORPUS_DOCUMENTS:
                            return answered, time.perf_counter() - started
                except (urllib.error.URLError, OSError, ValueError):
                    pass
                time.sleep(2.0)
            sys.exit(f"error: not done within {TIMEOUT_S} s; see {log_path}")
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="Export into this folder and keep it.")
    args = parser.parse_args()
    clone = args.keep or Path(tempfile.mkdtemp(prefix="conflict-qa-first-run-"))
    clone.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(clone)], input=archive, check=True)
    (clone / ".venv").symlink_to((ROOT / ".venv").resolve())
    try:
        first, complete = first_answer(clone, clone / "first-start.log", wait_for_all=True)
        print(f"first start (index built from corpus/): {first:.1f} s to the first answer; "
              f"all {CORPUS_DOCUMENTS:,} documents indexed after {complete:.1f} s", flush=True)
        second, _ = first_answer(clone, clone / "second-start.log")
        print(f"second start (index present): {second:.1f} s to the first answer", flush=True)
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(clone, ignore_errors=True)


if __name__ == "__main__":
    main()
