"""Time an answer's pages: page 1 by relevance, page 2, and page 1 ordered by date.

    .venv/bin/python bench/page_latency.py --index DIR [--questions bench/data/conflict_questions.jsonl]

Loads the service once (model and index), asks every question of the file once to warm
up, then asks each one as page 1 (relevance), page 2, and page 1 sorted by date
(`sort=date`, which chooses among up to 30 quotes), and prints p50/p95 of the answers'
own `elapsed_ms` for each, with the 1-minute load average. `--page-one-only` asks
page 1 without the new parameters, so the same command times code from before them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--questions", default=str(ROOT / "bench" / "data" / "conflict_questions.jsonl"))
    parser.add_argument("--page-one-only", action="store_true")
    args = parser.parse_args()
    from assistant.service import QAService
    from assistant.settings import Settings

    questions = [json.loads(line)["question"] for line in Path(args.questions).read_text().splitlines() if line.strip()]
    service = QAService(Settings(index_dir=Path(args.index)))
    for question in questions:
        service.ask(question)
    kinds = {"page 1": {}} if args.page_one_only else {
        "page 1": {"page": 1}, "page 2": {"page": 2}, "page 1, sort=date": {"order": "date"}}
    print(f"{len(questions)} questions, index {args.index}, load average {os.getloadavg()[0]:.2f}")
    for name, options in kinds.items():
        elapsed = [service.ask(question, **options).elapsed_ms for question in questions]
        print(f"{name}: p50 {np.percentile(elapsed, 50):.1f} ms, p95 {np.percentile(elapsed, 95):.1f} ms")
    print(f"load average {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
