"""Questions per second from one QAService asked by N threads at once (no HTTP).

    python bench/ask_threads.py --index /tmp/hardening/index --threads 1 8 20

Asks every question of bench/data/conflict_questions.jsonl once per thread count and
prints answers/s, the ratio to one thread and the mean embedding batch size.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

from assistant.service import QAService
from assistant.settings import Settings

QUESTIONS = Path(__file__).resolve().parent / "data" / "conflict_questions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8, 20])
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    service = QAService(Settings(index_dir=args.index))
    for question in questions[:3]:
        service.ask(question)
    baseline = None
    for count in args.threads:
        batches, embedded = service._batcher.batches, service._batcher.embedded

        def worker(offset: int) -> None:
            for question in questions[offset::count]:
                service.ask(question)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = len(questions) / (time.perf_counter() - started)
        baseline = baseline or rate
        batch = (service._batcher.embedded - embedded) / max(1, service._batcher.batches - batches)
        print(f"{count:3d} threads: {rate:5.1f} answers/s ({rate / baseline:.2f}x), mean batch {batch:.1f}, "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
