"""The index at archive scale: build, size, load, ask, update and recall on synthetic archives.

    nice .venv/bin/python bench/scale.py --sizes 10000 100000 300000 --work /tmp/store/scale

Each archive is made of real sentences: SQuAD v1.1 dev contexts and conflict-news items
(../shared/data), 2-4 per document, published on a day in 2016-2025, by one of a few
hundred outlets (the outlet names cited in conflict-news). The real conflict-news items are
not added. Texts are embedded with a **random-weight static-embedding model** made here
(sentence-transformers `StaticEmbedding`, a WordPiece vocabulary trained on the pool,
256 dimensions, seeded random token vectors): it is fast and has the memory footprint of a
real one, but its vectors mean nothing beyond shared tokens, so the figures measure the
index, not answer quality.

Every step runs in its own process, so each peak memory is that step's own:
build (full, from nothing), load (`load_index` + `retrieval.prepare`), ask (a `QAService`
answering SQuAD questions: warm p50/p95 after two warm-up questions, process peak memory),
update (one document's text changed, incremental build: seconds, texts embedded, segments
written), and recall (of the chunk candidate list the segmented vector search returns for the
questions, against exact search over the same stored vectors: the share of its top 20 scoring
at least the exact 20th score; sentences are never searched, ranking reads them by row).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SQUAD = DATA / "squad" / "dev-v1.1.json.gz"
NEWS = DATA / "conflict-news" / "conflict_news.jsonl.gz"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def sentence_pool() -> tuple[list[str], list[str], list[str]]:
    """(sentences, titles, outlets) of the shared corpora."""
    squad = json.loads(gzip.open(SQUAD).read())
    sentences, titles, outlets = [], [], set()
    for article in squad["data"]:
        titles.append(article["title"].replace("_", " "))
        for paragraph in article["paragraphs"]:
            sentences += [s.strip() for s in _SENTENCE_END.split(paragraph["context"]) if len(s.strip()) > 20]
    with gzip.open(NEWS, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            sentences += [s.strip() for s in _SENTENCE_END.split(record.get("text", "")) if len(s.strip()) > 20]
            if record.get("title"):
                titles.append(record["title"])
            for cite in record.get("citations") or ():
                name = cite.get("name") if isinstance(cite, dict) else cite
                if name:
                    outlets.add(name.strip())
    return sentences, titles, sorted(outlets)[:400]


def make_archive(path: Path, size: int, seed: int = 0) -> None:
    """`size` documents as JSON lines (id, title, text, source, publisher, published)."""
    sentences, titles, outlets = sentence_pool()
    rng = random.Random(seed)
    first_day = time.mktime((2016, 1, 1, 0, 0, 0, 0, 0, -1))
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(size):
            text = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
            outlet = rng.choice(outlets)
            day = time.strftime("%Y-%m-%d", time.gmtime(first_day + rng.randrange(3652) * 86400))
            handle.write(json.dumps({"id": f"synthetic-{number}", "title": rng.choice(titles), "text": text,
                                     "source": outlet, "publisher": outlet, "published": day}) + "\n")


def make_model(folder: Path) -> Path:
    """The random-weight StaticEmbedding model (see the module docstring)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    if (folder / "modules.json").exists():
        return folder
    sentences, _, _ = sentence_pool()
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(sentences, trainers.WordPieceTrainer(vocab_size=30000, special_tokens=["[UNK]", "[PAD]"]))
    weights = torch.randn(tokenizer.get_vocab_size(), 256, generator=torch.Generator().manual_seed(0))
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu")
    model.save(str(folder))
    return folder


def questions(count: int, seed: int = 2) -> list[str]:
    """SQuAD v1.1 dev questions; seed 2 for the reported figures (nprobe was chosen with seed 1)."""
    squad = json.loads(gzip.open(SQUAD).read())
    asked = [qa["question"] for article in squad["data"] for paragraph in article["paragraphs"]
             for qa in paragraph["qas"]]
    return random.Random(seed).sample(asked, count)


# ---------------------------------------------------------------- steps, each in its own process


def _documents(corpus: Path) -> list:
    from assistant.records import Document

    with open(corpus, encoding="utf-8") as handle:
        return [Document(language="en", **json.loads(line)) for line in handle]


def step_build(corpus: Path, index: Path, model: Path) -> dict:
    from assistant.index.build import build_index
    from assistant.settings import Settings

    documents = _documents(corpus)
    started = time.perf_counter()
    report = build_index(documents, settings=Settings(index_dir=index, model=str(model)), full=True)
    return {"build_s": round(time.perf_counter() - started, 1), "chunks": report.chunks,
            "sentences": report.sentences, "embedding_s": report.embedding_seconds}


def step_load(index: Path) -> dict:
    import faiss  # noqa: F401 - imported before timing: imports are not load time

    from assistant.index.store import load_index
    from assistant.search.retrieval import prepare

    started = time.perf_counter()
    loaded = load_index(index)
    prepare(loaded)
    return {"load_s": round(time.perf_counter() - started, 2), "segments": len(loaded.segments),
            "kinds": loaded.chunk_index.kinds}


def step_ask(index: Path, model: Path, count: int) -> dict:
    import numpy as np

    from assistant.service import QAService
    from assistant.settings import Settings

    service = QAService(Settings(index_dir=index, model=str(model)))
    asked = questions(count + 2)
    for question in asked[:2]:
        service.ask(question)
    times = []
    for question in asked[2:]:
        started = time.perf_counter()
        service.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    return {"ask_p50_ms": round(float(np.percentile(times, 50)), 1),
            "ask_p95_ms": round(float(np.percentile(times, 95)), 1)}


def step_update(corpus: Path, index: Path, model: Path) -> dict:
    from dataclasses import replace

    from assistant.index.build import build_index
    from assistant.settings import Settings

    documents = _documents(corpus)
    documents[len(documents) // 2] = replace(documents[len(documents) // 2],
                                             text=documents[len(documents) // 2].text + " Updated.")
    started = time.perf_counter()
    report = build_index(documents, settings=Settings(index_dir=index, model=str(model)))
    return {"update_s": round(time.perf_counter() - started, 1), "update_embedded_texts": report.embedded_texts,
            "update_segments_written": report.segments_written}


def step_recall(index: Path, model: Path, count: int) -> dict:
    import numpy as np

    from assistant.index.embedding import load_embedder
    from assistant.index.store import load_index

    loaded = load_index(index)
    vectors = load_embedder(str(model)).encode(questions(count))
    search = loaded.chunk_index  # sentences are never searched: ranking reads their vectors by row
    stored = np.asarray(search.vectors)
    hits = []
    for query in vectors:
        exact = stored @ query
        twentieth = np.partition(exact, len(exact) - 20)[len(exact) - 20]
        found = search.search(query, 20)[1]
        # A row scoring as high as the exact 20th counts: archives repeat sentences, and
        # which of several equal rows fills the last places is arbitrary.
        hits.append(float(np.sum(exact[found] >= twentieth - 1e-6)) / 20)
    return {"recall20_chunks": round(float(np.mean(hits)), 3)}


def peak_mb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited through fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return -1


def run_step(*arguments: str) -> dict:
    """Run one step in a fresh process; its result and peak resident memory (MB)."""
    output = subprocess.run([sys.executable, __file__, "--step", *arguments], check=True,
                            capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/scale-bench"))
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, *rest = args.step
        step = {"build": step_build, "load": step_load, "ask": step_ask, "update": step_update,
                "recall": step_recall}[name]
        typed = [int(value) if value.isdigit() else Path(value) for value in rest]
        result = step(*typed)
        result[f"{name}_peak_mb"] = peak_mb()
        print(json.dumps(result))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    model = make_model(args.work / "static-random-256")
    rows = []
    for size in args.sizes:
        corpus, index = args.work / f"archive-{size}.jsonl", args.work / f"index-{size}"
        if not corpus.exists():
            make_archive(corpus, size)
        row = {"documents": size}
        row |= run_step("build", str(corpus), str(index), str(model))
        row["disk_mb"] = round(sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20, 1)
        row |= run_step("load", str(index))
        row |= run_step("ask", str(index), str(model), str(args.questions))
        row |= run_step("update", str(corpus), str(index), str(model))
        row |= run_step("recall", str(index), str(model), str(args.questions))
        rows.append(row)
        print(json.dumps(row), flush=True)
        (args.work / "results.jsonl").open("a").write(json.dumps(row) + "\n")
    columns = ["documents", "chunks", "sentences", "segments", "kinds", "build_s", "build_peak_mb", "disk_mb",
               "load_s", "load_peak_mb", "ask_p50_ms", "ask_p95_ms", "ask_peak_mb", "update_s",
               "update_embedded_texts", "update_segments_written", "recall20_chunks"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(column, "")) for column in columns) + " |")


if __name__ == "__main__":
    main()
