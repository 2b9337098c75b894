"""Draw the sentences of the labelled figures set (bench/data/figures_labelled.jsonl) by a fixed rule.

Run once; the labels were then written by reading each sentence. Rerunning prints
the same sentences (seed 7), so anyone can check how the set was drawn:

    PYTHONPATH=$PWD .venv/bin/python bench/sample_figures.py > /tmp/figures/sample.jsonl

Rule. Sentences are split from conflict-news `text` and SQuAD v1.1 dev contexts at
". ! ?" followed by a space and a capital letter, 40-400 characters, de-duplicated.
- casualty: a conflict-news sentence with a digit or number word within 60
  characters of a casualty stem (kill, dead, death, died, injur, wound, missing,
  displac, fled, detain, arrest, abduct, kidnap, toll).
- hard: a casualty sentence that also has a sub-count ("including", "among them"),
  a weapon or vessel word (drone, missile, rocket, shell, ship, vessel), a bound
  ("at least", "more than", "up to", "between", "nearly"), a toll update ("toll",
  "rises to"), a number word, or two casualty stems (several incidents or categories).
- other numbers: a conflict-news or SQuAD sentence with a digit and no casualty stem.
- SQuAD casualty: a SQuAD sentence with a number near a casualty stem (old wars, plague).
Drawn with random.Random(7): 66 hard, 30 plain casualty, 12 SQuAD casualty,
42 conflict-news other numbers, 30 SQuAD other numbers (180 sentences).
Split: sha1(text) first hex digit 0-7 -> "dev" (rules were written looking at these),
8-f -> "heldout" (labelled, never used to write rules).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
SEED = 7
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
                r"forty|fifty|hundred|hundreds|thousand|thousands|dozen|dozens")
_NUMBER = re.compile(rf"\d|\b(?:{NUMBER_WORDS})\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_CASUALTY = re.compile(r"kill|\bdead|death|died|injur|wound|missing|displac|\bfled\b|detain|arrest|abduct|kidnap|toll",
                       re.IGNORECASE)
_HARD = re.compile(r"including|among them|drone|missile|rocket|shell|\bship|vessel|at least|more than|up to|"
                   rf"between|nearly|toll|rises to|\b(?:{NUMBER_WORDS})\b", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text) if 40 <= len(s.strip()) <= 400]


def near_casualty(sentence: str) -> bool:
    for word in _CASUALTY.finditer(sentence):
        window = sentence[max(0, word.start() - 60):word.end() + 60]
        if _NUMBER.search(window):
            return True
    return False


def split_of(text: str) -> str:
    return "dev" if hashlib.sha1(text.encode("utf-8")).hexdigest()[0] in "01234567" else "heldout"


def pools() -> dict[str, list[tuple[str, str]]]:
    news, squad = [], []
    with gzip.open(DATA / "conflict-news" / "conflict_news.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            news += [(record["id"], s) for s in sentences(record["text"])]
    with gzip.open(DATA / "squad" / "dev-v1.1.json.gz", "rt", encoding="utf-8") as handle:
        for article in json.load(handle)["data"]:
            for number, paragraph in enumerate(article["paragraphs"]):
                squad += [(f"squad:{article['title']}:{number}", s) for s in sentences(paragraph["context"])]
    seen: set[str] = set()
    result: dict[str, list[tuple[str, str]]] = {"hard": [], "casualty": [], "squad_casualty": [],
                                                 "news_other": [], "squad_other": []}
    for origin, rows in (("news", news), ("squad", squad)):
        for source, sentence in rows:
            if sentence in seen:
                continue
            seen.add(sentence)
            casualty = near_casualty(sentence)
            if origin == "news" and casualty:
                hard = bool(_HARD.search(sentence)) or len(_CASUALTY.findall(sentence)) >= 2
                result["hard" if hard else "casualty"].append((source, sentence))
            elif origin == "squad" and casualty:
                result["squad_casualty"].append((source, sentence))
            elif _DIGIT.search(sentence) and not _CASUALTY.search(sentence):
                result[f"{origin}_other"].append((source, sentence))
    return result


SIZES = {"hard": 66, "casualty": 30, "squad_casualty": 12, "news_other": 42, "squad_other": 30}


def main() -> None:
    rng = random.Random(SEED)
    for pool, rows in pools().items():
        for source, sentence in rng.sample(rows, SIZES[pool]):
            print(json.dumps({"source": source, "pool": pool, "split": split_of(sentence), "text": sentence},
                             ensure_ascii=False))


if __name__ == "__main__":
    main()
