"""Every answer-quality figure of the README in one run (about 15 minutes on 2 cores).

    .venv/bin/python bench/eval_all.py [--work DIR]

Builds (or reuses, in DIR, default /tmp/conflict-qa-eval) the conflict-news index
and the SQuAD indexes, then runs `conflict-qa eval` for:
- SQuAD v1.1 dev, all questions, and its even (tuning) and odd (holdout) article halves;
- the SQuAD v2.0 half (unanswerable questions should be declined);
- abstention across corpora: SQuAD v1.1 questions against the conflict-news index,
  bench/data/conflict_questions.jsonl against the SQuAD v1.1 index, and the same
  conflict questions against their own index (they should be answered);
and prints one Markdown table. Each row's command is printed first, so any
figure can be reproduced on its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SQUAD11 = DATA / "squad" / "dev-v1.1.json.gz"
SQUAD20 = DATA / "squad" / "dev-v2.0.cs224n-half.json.gz"
NEWS = DATA / "conflict-news" / "conflict_news.jsonl.gz"
QUESTIONS = ROOT / "bench" / "data" / "conflict_questions.jsonl"


def conflict_qa(*args: str) -> dict:
    command = [sys.executable, "-m", "assistant", *map(str, args)]
    print("$ conflict-qa " + " ".join(map(str, args)), file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr.strip())
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("/tmp/conflict-qa-eval"))
    work = parser.parse_args().work
    news, squad11, squad20 = work / "news", work / "squad11", work / "squad20"
    conflict_qa("build", "--corpus", NEWS, "--index", news, "--json")
    runs = [
        ("SQuAD v1.1 dev, all", conflict_qa("eval", SQUAD11, "--index", squad11, "--json")),
        ("SQuAD v1.1 dev, even articles (tuning)",
         conflict_qa("eval", SQUAD11, "--index", squad11, "--articles", "even", "--json")),
        ("SQuAD v1.1 dev, odd articles (holdout)",
         conflict_qa("eval", SQUAD11, "--index", squad11, "--articles", "odd", "--json")),
        ("SQuAD v2.0 half", conflict_qa("eval", SQUAD20, "--index", squad20, "--json")),
        ("conflict questions, own index", conflict_qa("eval", QUESTIONS, "--index", news, "--json")),
        ("SQuAD v1.1 questions on conflict-news index",
         conflict_qa("eval", SQUAD11, "--foreign-index", news, "--json")),
        ("conflict questions on SQuAD v1.1 index",
         conflict_qa("eval", QUESTIONS, "--foreign-index", squad11, "--json")),
    ]

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    print("| run | questions | recall@1 | recall@5 | recall@20 | hit@1 | hit@3 | answered "
          "(answerable) | declined (unanswerable) | p50 ms | p95 ms | p50 / embed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, report in runs:
        hybrid, abstention, latency = report["modes"]["hybrid"], report["abstention"], report["latency_ms"]
        print(f"| {name} | {report['questions']:,} | {cell(hybrid['passage_recall@1'])} | "
              f"{cell(hybrid['passage_recall@5'])} | {cell(hybrid['passage_recall@20'])} | "
              f"{cell(hybrid['quote_hit@1'])} | {cell(hybrid['quote_hit@3'])} | "
              f"{cell(abstention['answered_when_answerable'])} | {cell(abstention['declined_when_unanswerable'])} | "
              f"{latency['p50']} | {latency['p95']} | {latency['p50_over_embed_p50']} |")
    print("\nBaselines in the same runs (BM25 only / dense only / RRF), SQuAD v1.1 dev, all:")
    for mode in ("bm25", "dense", "rrf"):
        figures = runs[0][1]["modes"][mode]
        print(f"- {mode}: recall@1 {cell(figures['passage_recall@1'])}, recall@5 {cell(figures['passage_recall@5'])}, "
              f"recall@20 {cell(figures['passage_recall@20'])}, hit@1 {cell(figures['quote_hit@1'])}, "
              f"hit@3 {cell(figures['quote_hit@3'])}")
    violations = sum(report["exact_slices"]["violations"] for _, report in runs)
    quotes = sum(report["exact_slices"]["quotes"] for _, report in runs)
    print(f"\nQuotes checked as exact slices of their documents: {quotes:,}; violations: {violations}")


if __name__ == "__main__":
    main()
