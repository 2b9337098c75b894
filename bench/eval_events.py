"""How often event grouping (assistant/answers/events.py) is right, and that comparisons never mix events.

    PYTHONPATH=$PWD .venv/bin/python bench/eval_events.py [--index DIR]

1. Pairs: bench/data/events_labelled.jsonl holds 120 pairs of conflict-news items
   (drawn by bench/sample_events.py, rules and seeds there) labelled by reading:
   same event or not; "first" (development) and "heldout" samples. Prints accuracy
   and how many pairs were labelled / said / rightly said to be one event.
2. Questions: for every question of bench/data/conflict_questions.jsonl with
   `running_count` true, the quotes of its `reports` (corpus item ids, oldest
   first) are put together in scrambled order: they must form one comparison,
   shown in date order with one value per report in its timeline, and
   `latest_first` must put the newest report first.
   For every question with `not_same_event`, those items must never share a
   comparison.
3. With --index DIR (an index of the conflict-news corpus), the same questions
   are asked through QAService: running-count answers must list their quotes
   newest first, and no comparison may hold two items of a `not_same_event` list.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from assistant.answers import events
from assistant.answers.citations import comparison
from assistant.answers.figures import find_figures
from assistant.records import Answer, Quote

HERE = Path(__file__).resolve().parent
CORPUS = Path("/work/shared/data/conflict-news/conflict_news.jsonl.gz")


def as_quote(record: dict, marker: int = 0) -> Quote:
    return Quote(text=record["text"], doc_id=record["id"], title=record["title"], source=record["source"],
                 url=record.get("url"), published=record.get("published"), start=0, end=len(record["text"]),
                 score=1.0, figures=find_figures(record["text"]), marker=marker)


def pair_scores(sample: str) -> dict[str, float]:
    rows = [json.loads(line) for line in (HERE / "data" / "events_labelled.jsonl").read_text().splitlines()]
    rows = [row for row in rows if row["sample"] == sample]
    hits = predicted_same = true_same = both = 0
    for row in rows:
        said = events.same_event(as_quote(row["first"]), as_quote(row["second"]))
        hits += said == row["same_event"]
        predicted_same += said
        true_same += row["same_event"]
        both += said and row["same_event"]
    return {"pairs": len(rows), "accuracy": hits / len(rows), "labelled_same": true_same,
            "said_same": predicted_same, "correct_same": both}


def question_checks() -> dict[str, int]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        records = {record["id"]: record for record in map(json.loads, handle)}
    questions = [json.loads(line) for line in (HERE / "data" / "conflict_questions.jsonl").read_text().splitlines()]
    checked = failures = 0
    for question in questions:
        if question.get("running_count"):
            ids = question["reports"]
            scrambled = ids[1::2] + ids[::2]
            quotes = tuple(as_quote(records[i], marker) for marker, i in enumerate(scrambled, start=1))
            compared = comparison(Answer(question=question["question"], answered=True, quotes=quotes))
            ordered = compared[0]["reports"] if len(compared) == 1 else []
            by_marker = {quote.marker: quote.doc_id for quote in quotes}
            shown = [by_marker[report["markers"][0]] for report in ordered]
            latest = events.latest_first(question["question"], quotes)[0].doc_id
            over_time = compared[0]["timeline"].values() if len(compared) == 1 else []
            ok = (shown == ids and latest == ids[-1]
                  and any(line.count("→") == len(ids) - 1 for line in over_time))
        elif question.get("not_same_event"):
            ids = question["not_same_event"]
            quotes = tuple(as_quote(records[i], marker) for marker, i in enumerate(ids, start=1))
            ok = comparison(Answer(question=question["question"], answered=True, quotes=quotes)) == []
        else:
            continue
        checked += 1
        if not ok:
            failures += 1
            print(f"FAIL {question['question']}")
    return {"questions_checked": checked, "failures": failures}


def service_checks(index_dir: Path) -> dict[str, int]:
    """Ask the running-count and separate-event questions through QAService over a built index.

    Running-count questions: the answer's dated quotes must be newest first.
    Separate-event questions: no comparison of the answer may hold two of the
    listed items.
    """
    from assistant.service import QAService  # noqa: PLC0415
    from assistant.settings import Settings  # noqa: PLC0415
    from assistant.answers.citations import answer_to_json  # noqa: PLC0415

    service = QAService(Settings(index_dir=index_dir))
    questions = [json.loads(line) for line in (HERE / "data" / "conflict_questions.jsonl").read_text().splitlines()]
    checked = failures = 0
    for question in questions:
        if not (question.get("running_count") or question.get("not_same_event")):
            continue
        answer = service.ask(question["question"])
        payload = answer_to_json(answer)
        dates = [quote.published for quote in answer.quotes if quote.published]
        ok = dates == sorted(dates, reverse=True) if question.get("running_count") else True
        apart = set(question.get("not_same_event", ()))
        by_marker = {quote.marker: {quote.doc_id, *(ref.doc_id for ref in quote.also_in)} for quote in answer.quotes}
        for compared in payload["comparison"]:
            held = set().union(*(by_marker[marker] for marker in compared["markers"]))
            ok = ok and len(held & apart) < 2
        checked += 1
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {question['question']} -> "
              f"{[(quote.published, quote.doc_id) for quote in answer.quotes]}")
    return {"questions_asked": checked, "failures": failures}


def main() -> None:
    for sample in ("heldout", "first"):
        pairs = pair_scores(sample)
        print(f"event pairs ({sample}): {pairs['pairs']}, accuracy {pairs['accuracy']:.3f}; labelled same "
              f"{pairs['labelled_same']}, said same {pairs['said_same']}, both {pairs['correct_same']}")
    checks = question_checks()
    print(f"running-count / separate-event questions: {checks['questions_checked']} checked, "
          f"{checks['failures']} failures")
    if len(sys.argv) > 2 and sys.argv[1] == "--index":
        asked = service_checks(Path(sys.argv[2]))
        print(f"asked through the service: {asked['questions_asked']} questions, {asked['failures']} failures")


if __name__ == "__main__":
    main()
