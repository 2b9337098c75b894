"""Precision and recall of the figure reader on the labelled set (bench/data/figures_labelled.jsonl).

    PYTHONPATH=$PWD .venv/bin/python bench/eval_figures.py [--errors dev|heldout|all]

A found figure is right when its (category, low, high, vague) equals a labelled
figure of the same sentence not yet matched (multiset match). The set was drawn by
bench/sample_figures.py (rule and seed in its docstring) and labelled by reading;
"dev" sentences were looked at while writing the rules in assistant/answers/figures.py,
"heldout" ones were labelled but never used to write rules. The held-out figure is
the headline.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from assistant.answers.figures import find_figures

LABELLED = Path(__file__).resolve().parent / "data" / "figures_labelled.jsonl"


def key(figure: dict) -> tuple:
    return (figure["category"], figure["low"], figure["high"], figure["vague"])


def score(rows: list[dict]) -> dict[str, float]:
    true_positive = found = labelled = 0
    for row in rows:
        predicted = Counter((f.category, f.low, f.high, f.vague) for f in find_figures(row["text"]))
        gold = Counter(key(figure) for figure in row["figures"])
        true_positive += sum((predicted & gold).values())
        found += sum(predicted.values())
        labelled += sum(gold.values())
    return {"sentences": len(rows), "labelled": labelled, "found": found, "correct": true_positive,
            "precision": true_positive / found if found else 1.0,
            "recall": true_positive / labelled if labelled else 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=["dev", "heldout", "all"], default=None,
                        help="Also print the sentences of this split that are not read right.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    args = parser.parse_args()
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = {split: score([row for row in rows if split == "all" or row["split"] == split])
              for split in ("heldout", "dev", "all")}
    report["pools"] = dict(Counter(row["pool"] for row in rows))
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'split':8} {'sentences':>9} {'labelled':>8} {'found':>6} {'correct':>7} {'precision':>9} {'recall':>6}")
        for split in ("heldout", "dev", "all"):
            r = report[split]
            print(f"{split:8} {r['sentences']:>9} {r['labelled']:>8} {r['found']:>6} {r['correct']:>7} "
                  f"{r['precision']:>9.3f} {r['recall']:>6.3f}")
        print("pools:", ", ".join(f"{pool} {count}" for pool, count in report["pools"].items()))
        long_text = " ".join(row["text"] for row in rows) * 5
        started = time.perf_counter()
        find_figures(long_text)
        seconds = time.perf_counter() - started
        print(f"one text of {len(long_text):,} characters (the set, five times) read in {seconds:.2f} s")
    if args.errors:
        for row in rows:
            if args.errors != "all" and row["split"] != args.errors:
                continue
            predicted = sorted((f.category, f.low, f.high, f.vague) for f in find_figures(row["text"]))
            gold = sorted(key(figure) for figure in row["figures"])
            if predicted != gold:
                print(f"\n{row['id']} {row['text']}\n  labelled {gold}\n  found    {predicted}")


if __name__ == "__main__":
    main()
