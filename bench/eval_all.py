"""Every answer-quality figure of the README in one run, each said with the half it comes from.

    .venv/bin/python bench/eval_all.py [--work DIR] [--squad11]

Builds (or reuses, in DIR, default /tmp/conflict-qa-eval) the conflict-news index and
the SQuAD v2.0 half's index (with `--squad11` also SQuAD v1.1 dev's), caches every
question's embedding in DIR (embedded in batches once; answers do not change), then asks,
through the same `QAService` path as `conflict-qa ask`:
- the SQuAD v2.0 half (`dev-v2.0.cs224n-half.json.gz`), all articles: hit@1/@3 (substring
  and whole-word), extra quotes on the right article, answerable answered, unanswerable
  declined (the presence check is fitted on its EVEN articles: ODD is the held-out half);
- the conflict question set on the conflict-news index: the same, topic = the item's thread
  (fitting used its even lines only);
- off-corpus: the SQuAD v2.0 half's odd-article questions on the conflict-news index, and
  the conflict questions on the SQuAD v2.0 half's index (all should be declined);
- with `--squad11`, SQuAD v1.1 dev (the ranker is fitted on its even articles).
Every quote is checked against the corpus files read again from disk. Per-question
details (with the best candidates' features, for refitting without retrieval) go to
DIR/<run>.details.jsonl. Prints Markdown tables: held-out half first.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.eval_data import load_squad  # noqa: E402
from assistant.evaluation import (  # noqa: E402
    CachedEmbedder, evaluate, plan_eval, read_corpus_again, summarize,
)
from assistant.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
SQUAD11 = DATA / "squad" / "dev-v1.1.json.gz"
SQUAD20 = DATA / "squad" / "dev-v2.0.cs224n-half.json.gz"
NEWS = DATA / "conflict-news" / "conflict_news.jsonl.gz"
QUESTIONS = ROOT / "bench" / "data" / "conflict_questions.jsonl"


def build(documents, index_dir: Path, embedder) -> None:
    from assistant.index.build import build_index

    build_index(documents, settings=Settings(index_dir=index_dir), embedder=embedder, progress=False)


def run(name: str, file: Path, *, work: Path, embedder, index_dir: Path | None = None,
        foreign_index: Path | None = None, corpus: tuple[Path, ...] = (), articles: str = "all"):
    from assistant.service import QAService

    plan = plan_eval(file, index_dir=index_dir, default_index=index_dir or work, model=embedder.name,
                     articles=articles, foreign_index=foreign_index, corpus=corpus)
    embedder.prepare([q.question for q in plan.questions])
    service = QAService(Settings(index_dir=plan.index_dir), embedder=embedder)
    started = time.perf_counter()
    _, results = evaluate(service, plan.questions, disk_documents=read_corpus_again(plan.corpus),
                          keep_candidates=True)
    with open(work / f"{name}.details.jsonl", "w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(asdict(result)) + "\n")
    print(f"{name}: {len(results)} questions in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return results


def halves(results) -> dict[str, dict]:
    """Summaries of the odd (held-out) half, the even (fitted) half and all questions."""
    return {"odd": summarize([r for r in results if r.article % 2 == 1]),
            "even": summarize([r for r in results if r.article % 2 == 0]),
            "all": summarize(results)}


def cell(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("/tmp/conflict-qa-eval"))
    parser.add_argument("--squad11", action="store_true", help="also SQuAD v1.1 dev (slow: its index and 10,570 questions)")
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    import torch

    torch.set_num_threads(1)  # on shared cores, one thread wastes no time spinning (see service.py)
    from assistant.index.embedding import load_embedder
    from assistant.ingest.corpus import load_corpus

    embedder = CachedEmbedder(load_embedder(Settings().model), work / "question-vectors.npz")
    news, squad20, squad11 = work / "news", work / "squad20", work / "squad11"
    build(load_corpus([NEWS]).documents, news, embedder.embedder)
    build(load_squad(SQUAD20).documents, squad20, embedder.embedder)
    own = [
        ("SQuAD v2.0 half", run("squad20", SQUAD20, work=work, embedder=embedder, index_dir=squad20)),
        ("conflict questions, conflict-news index",
         run("conflict", QUESTIONS, work=work, embedder=embedder, index_dir=news, corpus=(NEWS,))),
    ]
    if args.squad11:
        build(load_squad(SQUAD11).documents, squad11, embedder.embedder)
        own.append(("SQuAD v1.1 dev", run("squad11", SQUAD11, work=work, embedder=embedder, index_dir=squad11)))
    foreign = [
        ("SQuAD v2.0 half questions (odd articles) on the conflict-news index",
         run("squad20-on-news", SQUAD20, work=work, embedder=embedder, foreign_index=news, corpus=(NEWS,),
             articles="odd")),
        ("conflict questions on the SQuAD v2.0 half's index",
         run("conflict-on-squad20", QUESTIONS, work=work, embedder=embedder, foreign_index=squad20,
             corpus=(SQUAD20,))),
    ]
    reports = {name: halves(results) for name, results in own}
    print("### Answers on their own corpus (held-out half first)\n")
    print("| run | half | questions | hit@1 | hit@3 | whole-word hit@1 | whole-word hit@3 | quotes / answer "
          "| one-quote answers | extra quotes on the right topic | answerable answered | unanswerable declined |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, by_half in reports.items():
        for half in ("odd", "even", "all"):
            report = by_half[half]
            hybrid, quotes, abstention = report["modes"]["hybrid"], report["quotes"], report["abstention"]
            label = {"odd": "odd (held out)", "even": "even (fitted)", "all": "all"}[half]
            print(f"| {name} | {label} | {report['questions']:,} | {cell(hybrid['quote_hit@1'])} | "
                  f"{cell(hybrid['quote_hit@3'])} | {cell(hybrid['word_hit@1'])} | {cell(hybrid['word_hit@3'])} | "
                  f"{cell(quotes['per_answer'])} | {cell(quotes['one_quote_answers'])} | "
                  f"{cell(quotes['extra_on_topic'])} ({quotes['extra_quotes']}) | "
                  f"{cell(abstention['answered_when_answerable'])} | {cell(abstention['declined_when_unanswerable'])} |")
    print("\nHalves: SQuAD by article number in its file (even = fitted, odd = held out); conflict questions by "
          "line number. Extra quotes on the right topic: conflict-news thread / SQuAD article title "
          "(number of extra quotes in brackets).\n")
    print("### How answerable questions were declined, and retrieval\n")
    print("| run | half | answered | not in corpus | detail missing | too vague | recall@1 | recall@5 | recall@20 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, by_half in reports.items():
        for half in ("odd", "even"):
            report = by_half[half]
            outcomes, hybrid = report["answerable_outcomes"], report["modes"]["hybrid"]
            print(f"| {name} (answerable) | {half} | {outcomes['answered']} | {outcomes['not_in_corpus']} | "
                  f"{outcomes['detail_missing']} | {outcomes['too_vague']} | {cell(hybrid['passage_recall@1'])} | "
                  f"{cell(hybrid['passage_recall@5'])} | {cell(hybrid['passage_recall@20'])} |")
    print("\n### Off-corpus questions (all should be declined)\n")
    print("| run | half | questions | declined | of which not in corpus | detail missing | too vague |")
    print("|---|---|---|---|---|---|---|")
    for name, results in foreign:
        for half, report in halves(results).items():
            if not report["questions"] or (half == "all" and name.startswith("SQuAD")):
                continue
            outcomes = report["outcomes"]
            print(f"| {name} | {half} | {report['questions']:,} | "
                  f"{cell(report['abstention']['declined_when_unanswerable'])} | {outcomes['not_in_corpus']} | "
                  f"{outcomes['detail_missing']} | {outcomes['too_vague']} |")
    every = [r for _, results in (*own, *foreign) for r in results]
    checked = sum(r.quotes - r.unchecked_quotes for r in every)
    print(f"\nQuotes and nearest passages checked against the corpus files read again from disk: {checked:,}; "
          f"not exact: {sum(r.slice_violations for r in every)}; unchecked: {sum(r.unchecked_quotes for r in every)}")


if __name__ == "__main__":
    main()
