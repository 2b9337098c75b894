"""Benchmark: building the conflict-news index, full and after one changed document.

Run by hand (takes about 6 minutes on 2 cores):

    .venv/bin/python bench/build_conflict_news.py [--corpus PATH] [--keep DIR]

Prints, for the whole conflict-news corpus (3,276 items):
- the full build command's wall time and peak memory, and its build time over the
  time the model took to embed the same texts in that run (`seconds / embedding_seconds`);
- the same texts embedded again in this process, alone, as a second reference;
- a rebuild after one document changed: texts embedded, and its whole command time
  (start-up and model loading included) as a share of the full build command.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFLICT_NEWS = ROOT.parent / "shared" / "data" / "conflict-news" / "conflict_news.jsonl.gz"


def timed_build(corpus: Path, index_dir: Path, *extra: str) -> tuple[dict, float, float]:
    """(JSON report, command wall seconds, peak RSS in MB of the child) of one `conflict-qa build`."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "build", "--corpus", str(corpus), "--index", str(index_dir), "--json", *extra],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(result.stdout), seconds, peak_mb


def embedding_reference(index_dir: Path) -> tuple[int, float]:
    """Embed, alone, exactly the texts the build embedded (chunk inputs and sentences, deduplicated)."""
    from assistant.index.embedding import load_embedder
    from assistant.index.store import chunk_embedding_input, load_index

    index = load_index(index_dir)
    texts: dict[str, None] = {}
    for row in range(len(index.chunk_doc)):
        texts[chunk_embedding_input(index.documents[index.chunk_doc[row]], index.chunk_text(row))] = None
    for row in range(len(index.sentence_doc)):
        texts[index.sentence_text(row)] = None
    embedder = load_embedder(index.manifest.model)
    started = time.perf_counter()
    embedder.encode(list(texts), batch_size=64)
    return len(texts), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CONFLICT_NEWS)
    parser.add_argument("--keep", type=Path, help="build the index here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.keep or Path(scratch) / "index"
        full, full_seconds, peak_mb = timed_build(args.corpus, index_dir, "--full")
        print(f"full build: {full['documents']:,} documents, {full['chunks']:,} chunks, {full['sentences']:,} sentences, "
              f"{full['embedded_texts']:,} texts embedded")
        print(f"  command wall time      {full_seconds:8.1f} s   peak RSS {peak_mb:,.0f} MB")
        print(f"  build (in process)     {full['seconds']:8.1f} s")
        print(f"  of which embedding     {full['embedding_seconds']:8.1f} s   build / embedding = "
              f"{full['seconds'] / full['embedding_seconds']:.3f}   command / embedding = "
              f"{full_seconds / full['embedding_seconds']:.3f}")

        count, alone = embedding_reference(index_dir)
        print(f"same {count:,} texts embedded alone {alone:8.1f} s   build / that = {full['seconds'] / alone:.3f}")

        changed = Path(scratch) / "changed.jsonl"
        with gzip.open(args.corpus, "rt", encoding="utf-8") if args.corpus.suffix == ".gz" else open(args.corpus) as source:
            lines = source.readlines()
        record = json.loads(lines[len(lines) // 2])
        record["text"] += " A later report revised the figures."
        lines[len(lines) // 2] = json.dumps(record) + "\n"
        changed.write_text("".join(lines), encoding="utf-8")
        update, update_seconds, _ = timed_build(changed, index_dir)
        print(f"one document changed: updated {update['updated']}, unchanged {update['unchanged']:,}, "
              f"{update['embedded_texts']} texts embedded")
        print(f"  command wall time      {update_seconds:8.1f} s   = {100 * update_seconds / full_seconds:.1f}% "
              f"of the full build command (target <= 20%)")
        same, same_seconds, _ = timed_build(changed, index_dir)
        print(f"nothing changed: {same['embedded_texts']} texts embedded, command wall time {same_seconds:.1f} s")


if __name__ == "__main__":
    main()
