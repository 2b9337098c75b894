"""The on-disk index: build (incremental, crash-safe), save and load.

Layout of an index folder:

    index/
      CURRENT            name of the live version folder (replaced atomically)
      .lock              held while a build runs
      v-<time>-<pid>/    one complete version
        manifest.json    format, model (and the languages it covers), dimension, counts,
                         splitter version, per-document content hashes
        documents.jsonl  every document with its text and metadata
        spans.npz        chunk and sentence offsets into the document texts
        chunks.faiss     chunk vectors (inner product over L2-normalised rows = cosine)
        sentences.faiss  sentence vectors
        bm25_chunks/     BM25 over title + chunk text
        bm25_sentences/  BM25 over sentence text

A build writes a new version folder beside the live one and only then points
CURRENT at it, so a build killed at any moment leaves the previous index usable.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.records import CitedReport, Document
from assistant.storage import BusyError, ExclusiveLock, replace_file, sync_tree

FORMAT_VERSION = 1
POINTER = "CURRENT"
VERSION_PREFIX = "v-"
MAX_POINTER_BYTES = 256
"""CURRENT holds one folder name; anything longer is not a pointer this code wrote."""


class IndexUnavailable(Exception):
    """The index cannot be used; the message is one line for the user."""


@dataclass(frozen=True, kw_only=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    documents: int
    chunks: int
    sentences: int
    document_hashes: dict[str, str]
    created: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per stored file (path relative to the version folder): {"bytes": size, "sha256": hex}.
    Absent in indexes written before checksums were recorded; those load unchecked."""
    splitter: str = ""
    """chunking.SPLITTER_VERSION at build time; when it differs, a build re-splits every document."""
    model_languages: str = ""
    """Languages the model covers ("en", "all", "en,fr"); "" (older indexes): known per model name."""


@dataclass(frozen=True, kw_only=True)
class LoadedIndex:
    """An index in memory. Offsets index `documents[doc].text`; row i of a FAISS index is span i."""

    path: Path
    manifest: Manifest
    documents: tuple[Document, ...]
    chunk_doc: np.ndarray
    chunk_start: np.ndarray
    chunk_end: np.ndarray
    sentence_doc: np.ndarray
    sentence_start: np.ndarray
    sentence_end: np.ndarray
    sentence_chunk: np.ndarray
    chunk_index: Any
    sentence_index: Any
    chunk_bm25: Any
    sentence_bm25: Any

    def chunk_text(self, row: int) -> str:
        return self.documents[self.chunk_doc[row]].text[self.chunk_start[row]:self.chunk_end[row]]

    def sentence_text(self, row: int) -> str:
        return self.documents[self.sentence_doc[row]].text[self.sentence_start[row]:self.sentence_end[row]]

    def chunk_vectors(self) -> np.ndarray:
        """The stored chunk vectors as an (n, dimension) float32 array."""
        return _stored_vectors(self.chunk_index)

    def sentence_vectors(self) -> np.ndarray:
        """The stored sentence vectors as an (n, dimension) float32 array."""
        return _stored_vectors(self.sentence_index)


def _stored_vectors(faiss_index: Any) -> np.ndarray:
    if faiss_index.ntotal == 0:
        return np.zeros((0, faiss_index.d), dtype=np.float32)
    return np.ascontiguousarray(faiss_index.reconstruct_n(0, faiss_index.ntotal), dtype=np.float32)


def bm25_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Lowercased, English-stopword-free, Snowball-stemmed tokens, the same at build and query time."""
    import bm25s
    import Stemmer

    tokenized = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(Stemmer), return_ids=False, show_progress=False
    )
    return [list(tokens) for tokens in tokenized]


_STEMMER = None


def _stemmer(stemmer_module: Any) -> Any:
    global _STEMMER
    if _STEMMER is None:
        _STEMMER = stemmer_module.Stemmer("english")
    return _STEMMER


def chunk_embedding_input(document: Document, chunk_text: str) -> str:
    """What the model embeds for a chunk: the (shortened) title, then the chunk."""
    return f"{title_prefix(document)}\n{chunk_text}"


def title_prefix(document: Document) -> str:
    # 150 characters keep the title to a few dozen tokens, leaving the chunk its budget.
    return document.title.replace("_", " ")[:150]


# ---------------------------------------------------------------- reading


def current_version(index_dir: Path) -> str | None:
    """The live version's folder name, or None when there is no index. Cheap: one small read.

    CURRENT must name a version folder directly inside `index_dir` (`v-...`); an
    unreadable pointer, a path, `..` or a name with no such folder raises
    IndexUnavailable with one line, so no pointer can load another folder's files.
    """
    pointer = Path(index_dir) / POINTER
    try:
        with open(pointer, "rb") as handle:
            raw = handle.read(MAX_POINTER_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise _bad_pointer(index_dir, "it is a folder, not a file") from None
    except OSError as error:
        raise _bad_pointer(index_dir, error.strerror or str(error)) from None
    if len(raw) > MAX_POINTER_BYTES:
        raise _bad_pointer(index_dir, f"over {MAX_POINTER_BYTES} bytes")
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _bad_pointer(index_dir, "not UTF-8 text") from None
    if not name:
        return None
    if not valid_version_name(name):
        raise _bad_pointer(index_dir, f"{name[:80]!r} is not a version folder name")
    return name


def valid_version_name(name: str) -> bool:
    """A version folder name as builds write it: `v-...`, one path part, no `..`, printable."""
    return (name.startswith(VERSION_PREFIX) and "/" not in name and "\\" not in name
            and ".." not in name and name.isprintable() and len(name) <= 200)


def _bad_pointer(index_dir: Path, why: str) -> IndexUnavailable:
    return IndexUnavailable(f"index in {index_dir} has a damaged {POINTER} pointer ({why}): "
                            "rebuild it with `conflict-qa build --full`")


def live_folder(index_dir: Path) -> Path:
    """The live version's folder, read from CURRENT once, or IndexUnavailable when there is none."""
    version = current_version(index_dir)
    if version is None:
        raise IndexUnavailable(f"no index in {index_dir}: build one with `conflict-qa build`")
    folder = Path(index_dir) / version
    if not folder.is_dir():
        raise IndexUnavailable(f"index in {index_dir} points at {version}, which is missing: "
                               "rebuild it with `conflict-qa build --full`")
    return folder


def _damaged(index_dir: Path, error: Exception | str) -> IndexUnavailable:
    detail = " ".join(str(error).split())[:300] or type(error).__name__
    return IndexUnavailable(f"index in {index_dir} is damaged ({detail}): rebuild it with `conflict-qa build --full`")


def read_manifest(index_dir: Path, folder: Path | None = None) -> Manifest:
    """The manifest of `folder` (default: the live version of `index_dir`)."""
    folder = folder or live_folder(index_dir)
    try:
        manifest = Manifest(**json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as error:
        raise _damaged(index_dir, f"manifest.json: {error}") from error
    if manifest.format_version != FORMAT_VERSION:
        raise IndexUnavailable(
            f"index in {index_dir} has format {manifest.format_version}, this version reads {FORMAT_VERSION}: "
            "rebuild it with `conflict-qa build --full`"
        )
    return manifest


def recorded_model(index_dir: Path) -> str | None:
    """The model the live index in `index_dir` was built with, or None (no index, unreadable manifest)."""
    try:
        return read_manifest(index_dir).model
    except (IndexUnavailable, OSError, ValueError):
        return None


def _read_documents(folder: Path) -> tuple[Document, ...]:
    """Every stored document; ValueError naming the line for a record that is not one."""
    documents = []
    with open(folder / "documents.jsonl", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                documents.append(document_from_record(json.loads(line)))
            except (ValueError, TypeError, AttributeError) as error:
                raise ValueError(f"documents.jsonl line {number}: not a document record ({error})") from None
    return tuple(documents)


def document_from_record(record: dict[str, Any]) -> Document:
    """A `Document` from its line in documents.jsonl (as `_write_version` writes it).

    Lines written before documents had attribution fields read as published by their source.
    """
    record = dict(record)
    record.pop("content_hash", None)
    record["cites"] = tuple(CitedReport(**cite) for cite in record.get("cites") or ())
    record.setdefault("publisher", record.get("source", ""))
    return Document(**record)


def file_record(path: Path) -> dict[str, Any]:
    """{"bytes": size, "sha256": hex} of one file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def check_files(folder: Path, manifest: Manifest, *, checksums: bool = True) -> list[str]:
    """What does not match the manifest's file records: missing files, sizes, checksums
    (`checksums=False` compares sizes only)."""
    problems = []
    for name, expected in manifest.files.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        size = path.stat().st_size
        if size != expected.get("bytes"):
            problems.append(f"{name} has {size:,} bytes, the manifest says {expected.get('bytes')}")
        elif checksums and file_record(path)["sha256"] != expected.get("sha256"):
            problems.append(f"{name} does not match its checksum")
    return problems


def check_counts(index: LoadedIndex) -> list[str]:
    """Where the loaded arrays disagree with the manifest or with each other."""
    manifest = index.manifest
    problems = []
    if len(index.documents) != manifest.documents:
        problems.append(f"documents.jsonl holds {len(index.documents):,} documents, the manifest says {manifest.documents:,}")
    spans = {"chunk": (index.chunk_doc, index.chunk_start, index.chunk_end),
             "sentence": (index.sentence_doc, index.sentence_start, index.sentence_end, index.sentence_chunk)}
    expected = {"chunk": manifest.chunks, "sentence": manifest.sentences}
    vectors = {"chunk": index.chunk_index, "sentence": index.sentence_index}
    for kind, arrays in spans.items():
        if any(len(array) != expected[kind] for array in arrays):
            problems.append(f"spans.npz {kind} rows do not match the manifest's {expected[kind]:,}")
        if vectors[kind].ntotal != expected[kind]:
            problems.append(f"{kind}s.faiss holds {vectors[kind].ntotal:,} vectors, the manifest says {expected[kind]:,}")
        if vectors[kind].d != manifest.dimension:
            problems.append(f"{kind}s.faiss has dimension {vectors[kind].d}, the manifest says {manifest.dimension}")
    if problems:
        return problems
    for doc, start, end, name in ((index.chunk_doc, index.chunk_start, index.chunk_end, "chunk"),
                                  (index.sentence_doc, index.sentence_start, index.sentence_end, "sentence")):
        if len(doc) and (doc.min() < 0 or doc.max() >= len(index.documents) or np.any(np.diff(doc) < 0)):
            problems.append(f"spans.npz {name} documents are out of range or order")
        elif len(doc) and (np.any(start < 0) or np.any(end < start)):
            problems.append(f"spans.npz {name} offsets are out of range")
        elif len(doc):
            lengths = np.array([len(d.text) for d in index.documents])
            if np.any(end > lengths[doc]):
                problems.append(f"spans.npz {name} offsets run past their document's text")
    if len(index.sentence_chunk) and (index.sentence_chunk.min() < 0 or index.sentence_chunk.max() >= manifest.chunks):
        problems.append("spans.npz sentence chunks are out of range")
    return problems


def load_index(index_dir: Path, *, checksums: bool = True) -> LoadedIndex:
    """Load the live version of the index in `index_dir`, or raise IndexUnavailable.

    Every load checks the stored files' sizes and (with `checksums`, the default)
    SHA-256 against the manifest, and the row counts of documents, spans and
    vectors against the manifest and each other, so a damaged or partial version
    is refused with one line instead of answering wrongly. On the 3,276-document
    conflict-news index (17.4 MB) a warm load took 346 ms with checksums, 286 ms
    without (load average 20 on 2 cores); `verify` checks the same and more.
    """
    import bm25s
    import faiss

    index_dir = Path(index_dir)
    # CURRENT is read once, so a build switching it meanwhile cannot mix two versions.
    folder = live_folder(index_dir)
    manifest = read_manifest(index_dir, folder)
    problems = check_files(folder, manifest, checksums=checksums)
    if problems:
        raise _damaged(index_dir, problems[0])
    try:
        with np.load(folder / "spans.npz") as spans_file:
            spans = {key: spans_file[key] for key in SPAN_ARRAYS}
        loaded = LoadedIndex(
            path=folder,
            manifest=manifest,
            documents=_read_documents(folder),
            chunk_doc=spans["chunk_doc"], chunk_start=spans["chunk_start"], chunk_end=spans["chunk_end"],
            sentence_doc=spans["sentence_doc"], sentence_start=spans["sentence_start"],
            sentence_end=spans["sentence_end"], sentence_chunk=spans["sentence_chunk"],
            chunk_index=faiss.read_index(str(folder / "chunks.faiss")),
            sentence_index=faiss.read_index(str(folder / "sentences.faiss")),
            chunk_bm25=bm25s.BM25.load(str(folder / "bm25_chunks")),
            sentence_bm25=bm25s.BM25.load(str(folder / "bm25_sentences")),
        )
    except Exception as error:  # noqa: BLE001 - any damage to stored files is one line, never a crash
        raise _damaged(index_dir, f"{type(error).__name__}: {error}") from error
    problems = check_counts(loaded)
    if problems:
        raise _damaged(index_dir, problems[0])
    return loaded


SPAN_ARRAYS = ("chunk_doc", "chunk_start", "chunk_end", "sentence_doc", "sentence_start",
               "sentence_end", "sentence_chunk")


def verify_index(index_dir: Path) -> dict[str, Any]:
    """Check the live version fully: pointer, manifest, every file's checksum, counts, loadability.

    Returns {"index", "version", "ok", "problems": [...], "files": n, "bytes": n, "seconds": s};
    raises nothing for damage (it is listed), IndexUnavailable only when there is no index at all.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    report: dict[str, Any] = {"index": str(index_dir), "version": None, "ok": False, "problems": [],
                              "files": 0, "bytes": 0}
    try:
        folder = live_folder(index_dir)
        report["version"] = folder.name
        manifest = read_manifest(index_dir, folder)
    except IndexUnavailable as error:
        if "no index in" in str(error):
            raise
        report["problems"].append(str(error))
        report["seconds"] = round(time.perf_counter() - started, 3)
        return report
    if not manifest.files:
        report["problems"].append("the manifest records no checksums (built by an older version): "
                                  "rebuild it with `conflict-qa build --full`")
    else:
        report["problems"] += check_files(folder, manifest)
        report["files"] = len(manifest.files)
        report["bytes"] = sum(record.get("bytes", 0) for record in manifest.files.values())
    if not report["problems"]:
        try:
            load_index(index_dir, checksums=False)
        except IndexUnavailable as error:
            report["problems"].append(str(error))
    report["ok"] = not report["problems"]
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def index_statistics(index_dir: Path) -> dict[str, Any]:
    """What the live index holds, without loading vectors: counts, sources, dates, size on disk.

    `sources` counts documents per outlet (publisher or cited, names normalised by
    `ingest.outlets`); `publishers` counts them per (publisher, license), for credits.
    `updated` is when the live version was written; `feeds` the fetched sources behind it.
    """
    from assistant.ingest.feeds import feed_summary
    from assistant.ingest.outlets import corpus_credits, document_outlets

    index_dir = Path(index_dir)
    folder = live_folder(index_dir)
    manifest = read_manifest(index_dir, folder)
    try:
        documents = _read_documents(folder)
    except (OSError, ValueError) as error:
        raise _damaged(index_dir, error) from error
    sources: dict[str, int] = {}
    for document in documents:
        for outlet in document_outlets(document):
            sources[outlet] = sources.get(outlet, 0) + 1
    dates = sorted(d.published for d in documents if d.published)
    languages: dict[str, int] = {}
    for document in documents:
        languages[document.language or "unknown"] = languages.get(document.language or "unknown", 0) + 1
    return {
        "index": str(index_dir),
        "version": folder.name,
        "model": manifest.model,
        "dimension": manifest.dimension,
        "documents": manifest.documents,
        "chunks": manifest.chunks,
        "sentences": manifest.sentences,
        "sources": dict(sorted(sources.items(), key=lambda item: (-item[1], item[0]))),
        "publishers": [asdict(credit) for credit in corpus_credits(documents)],
        "languages": dict(sorted(languages.items(), key=lambda item: (-item[1], item[0]))),
        "model_languages": manifest.model_languages or None,
        "splitter": manifest.splitter or None,
        "published": {"first": dates[0] if dates else None, "last": dates[-1] if dates else None,
                      "undated": len(documents) - len(dates)},
        "bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        "created": manifest.created,
        "updated": manifest.created,
        "feeds": feed_summary(documents),
    }


# ---------------------------------------------------------------- building


@dataclass(frozen=True, kw_only=True)
class BuildReport:
    documents: int
    chunks: int
    sentences: int
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded_texts: int
    seconds: float
    embedding_seconds: float
    index: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class _DocumentRows:
    """One document's spans and vectors, reused as they are when the document is unchanged."""

    chunks: np.ndarray          # (n, 2) start, end
    sentences: np.ndarray       # (m, 3) start, end, chunk position within the document
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray


def _previous_rows(index_dir: Path, model: str) -> dict[str, tuple[str, _DocumentRows]]:
    """Per document id of the live index: (content hash, rows), for reuse by an incremental build."""
    from assistant.ingest.chunking import SPLITTER_VERSION

    if current_version(index_dir) is None:
        return {}
    manifest = read_manifest(index_dir)
    if manifest.model != model:
        raise IndexUnavailable(
            f"index in {index_dir} was built with model '{manifest.model}', not '{model}': "
            "rebuild it with `--full` or pass `--model` to match"
        )
    if manifest.splitter != SPLITTER_VERSION:
        return {}  # spans cut by another splitter version: every document is split and embedded again
    loaded = load_index(index_dir)
    chunk_vectors = loaded.chunk_vectors()
    sentence_vectors = loaded.sentence_vectors()
    chunk_bounds = np.searchsorted(loaded.chunk_doc, np.arange(len(loaded.documents) + 1))
    sentence_bounds = np.searchsorted(loaded.sentence_doc, np.arange(len(loaded.documents) + 1))
    rows: dict[str, tuple[str, _DocumentRows]] = {}
    for position, document in enumerate(loaded.documents):
        c0, c1 = chunk_bounds[position], chunk_bounds[position + 1]
        s0, s1 = sentence_bounds[position], sentence_bounds[position + 1]
        rows[document.id] = (
            manifest.document_hashes.get(document.id, ""),
            _DocumentRows(
                chunks=np.stack([loaded.chunk_start[c0:c1], loaded.chunk_end[c0:c1]], axis=1),
                sentences=np.stack(
                    [loaded.sentence_start[s0:s1], loaded.sentence_end[s0:s1], loaded.sentence_chunk[s0:s1] - c0], axis=1
                ),
                chunk_vectors=chunk_vectors[c0:c1],
                sentence_vectors=sentence_vectors[s0:s1],
            ),
        )
    return rows


def build_index(
    documents: Sequence[Document],
    *,
    settings: Any,
    full: bool = False,
    progress: bool = False,
    embedder: Any = None,
    load_embedder: Callable[[str], Any] | None = None,
    embed_stage: Callable[..., tuple[dict[str, Any], int, float]] | None = None,
) -> BuildReport:
    """Build or update the index in `settings.index_dir` from `documents`.

    Incremental by default: documents whose content hash is unchanged keep their
    spans and vectors; only added or changed documents are split and embedded, and
    documents no longer in the corpus leave the index. `full=True` rebuilds all.
    The model is loaded only when something needs embedding (pass `embedder` to
    reuse a loaded one). `embed_stage` replaces the local split-and-embed stage
    (same arguments and result as `_embed_documents`; the Ray build passes one).
    Raises IndexUnavailable for an empty corpus or an index built by another model.
    """
    from assistant.ingest.chunking import Chunker, split_document

    started = time.perf_counter()
    if not documents:
        raise IndexUnavailable("the corpus has no documents to index")
    index_dir = Path(settings.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_dir):
        previous = {} if full else _previous_rows(index_dir, settings.model)
        changed = [d for d in documents if previous.get(d.id, ("",))[0] != d.content_hash]
        if changed and embedder is None:
            if load_embedder is None:
                from assistant.index.embedding import load_embedder
            embedder = load_embedder(settings.model)
        rows, embedded_texts, embedding_seconds = {}, 0, 0.0
        if changed:
            rows, embedded_texts, embedding_seconds = (embed_stage or _embed_documents)(
                changed, embedder=embedder, settings=settings, progress=progress,
                chunker=Chunker(
                    count_tokens=embedder.count_tokens, max_tokens=_chunk_budget(settings, embedder),
                    overlap_tokens=settings.chunk_overlap_tokens,
                ),
                split_document=split_document,
            )
        new_ids = {d.id for d in documents}
        recorded_languages = _recorded_languages(index_dir, settings.model)
        model_languages = _model_languages(settings, recorded_languages)
        if changed or full or set(previous) != new_ids or model_languages != recorded_languages:
            for document in documents:
                if document.id not in rows:
                    rows[document.id] = previous[document.id][1]
            model_dimension = embedder.dimension if embedder is not None else read_manifest(index_dir).dimension
            try:
                counts = _write_version(index_dir, documents, rows, model=settings.model, dimension=model_dimension,
                                        model_languages=model_languages)
            except OSError as error:
                raise _write_failed(index_dir, error) from error
        else:
            manifest = read_manifest(index_dir)
            counts = (manifest.chunks, manifest.sentences)
    updated = sum(1 for d in changed if d.id in previous)
    return BuildReport(
        documents=len(documents), chunks=counts[0], sentences=counts[1],
        added=len(changed) - updated, updated=updated,
        removed=sum(1 for doc_id in previous if doc_id not in new_ids),
        unchanged=len(documents) - len(changed), embedded_texts=embedded_texts,
        seconds=round(time.perf_counter() - started, 3), embedding_seconds=round(embedding_seconds, 3),
        index=str(index_dir),
    )


@contextlib.contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    try:
        with ExclusiveLock(index_dir / ".lock", busy_message=f"another build is running on {index_dir}"):
            yield
    except BusyError as error:
        raise IndexUnavailable(str(error)) from error


def _chunk_budget(settings: Any, embedder: Any) -> int:
    # Room for the title line (at most 150 characters, about 40 tokens) and the two special tokens.
    if embedder.max_tokens is None:
        return settings.chunk_tokens  # a static-embedding model reads any length
    return min(settings.chunk_tokens, embedder.max_tokens - 48)


def _recorded_languages(index_dir: Path, model: str) -> str:
    """The live manifest's `model_languages` when it is for `model`; "" otherwise (or unreadable)."""
    try:
        manifest = read_manifest(index_dir) if current_version(index_dir) else None
    except (IndexUnavailable, OSError, ValueError):
        return ""
    return manifest.model_languages if manifest is not None and manifest.model == model else ""


def _model_languages(settings: Any, recorded: str) -> str:
    """What the manifest records: `settings.model_languages` when given, else what the index
    already records (a `--model-languages` given once stays), else what is known by model name."""
    from assistant.ingest.languages import model_languages, parse_languages

    given = getattr(settings, "model_languages", None)
    if not given and recorded:
        return recorded
    covered = parse_languages(given) if given else model_languages(settings.model)
    return ",".join(sorted(covered)) if covered is not None else "all"


def _embed_documents(changed, *, embedder, settings, progress, chunker, split_document):
    """Split the changed documents and embed their chunks and sentences in one pass."""
    inputs: dict[str, int] = {}
    plans = []
    for document in changed:
        spans = split_document(document.text, chunker, document.language)
        chunk_inputs = [chunk_embedding_input(document, document.text[s.start:s.end]) for s in spans.chunks]
        sentence_inputs = [document.text[s.start:s.end] for s in spans.sentences]
        # The same wording recurs across items (wire copy, repeated summaries): embed it once.
        chunk_keys = [inputs.setdefault(text, len(inputs)) for text in chunk_inputs]
        sentence_keys = [inputs.setdefault(text, len(inputs)) for text in sentence_inputs]
        plans.append((document, spans, chunk_keys, sentence_keys))
    embedding_started = time.perf_counter()
    vectors = embedder.encode(list(inputs), batch_size=settings.batch_size, progress=progress)
    embedding_seconds = time.perf_counter() - embedding_started
    rows = {}
    for document, spans, chunk_keys, sentence_keys in plans:
        rows[document.id] = _DocumentRows(
            chunks=np.array([[s.start, s.end] for s in spans.chunks], dtype=np.int32).reshape(-1, 2),
            sentences=np.array(
                [[s.start, s.end, c] for s, c in zip(spans.sentences, spans.sentence_chunks)], dtype=np.int32
            ).reshape(-1, 3),
            chunk_vectors=vectors[chunk_keys].reshape(-1, embedder.dimension),
            sentence_vectors=vectors[sentence_keys].reshape(-1, embedder.dimension),
        )
    return rows, len(inputs), embedding_seconds


def _write_version(index_dir: Path, documents, rows, *, model: str, dimension: int,
                   model_languages: str = "") -> tuple[int, int]:
    """Write a complete new version beside the live one, then switch CURRENT to it atomically."""
    import bm25s
    import faiss

    from assistant.ingest.chunking import SPLITTER_VERSION

    folder = index_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    folder.mkdir()
    ordered = [rows[d.id] for d in documents]
    chunk_doc = np.concatenate([np.full(len(r.chunks), i, dtype=np.int32) for i, r in enumerate(ordered)])
    chunks = np.concatenate([r.chunks for r in ordered]).astype(np.int32)
    sentence_doc = np.concatenate([np.full(len(r.sentences), i, dtype=np.int32) for i, r in enumerate(ordered)])
    chunk_offsets = np.cumsum([0] + [len(r.chunks) for r in ordered[:-1]])
    sentences = np.concatenate([r.sentences for r in ordered]).astype(np.int32)
    sentence_chunk = sentences[:, 2] + chunk_offsets[sentence_doc].astype(np.int32)
    np.savez(
        folder / "spans.npz",
        chunk_doc=chunk_doc, chunk_start=chunks[:, 0], chunk_end=chunks[:, 1],
        sentence_doc=sentence_doc, sentence_start=sentences[:, 0], sentence_end=sentences[:, 1],
        sentence_chunk=sentence_chunk,
    )
    for name, vectors in (
        ("chunks.faiss", np.concatenate([r.chunk_vectors for r in ordered])),
        ("sentences.faiss", np.concatenate([r.sentence_vectors for r in ordered])),
    ):
        flat = faiss.IndexFlatIP(dimension)
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(flat, str(folder / name))
    chunk_texts = [
        f"{title_prefix(documents[d])}\n{documents[d].text[s:e]}" for d, s, e in zip(chunk_doc, chunks[:, 0], chunks[:, 1])
    ]
    sentence_texts = [documents[d].text[s:e] for d, s, e in zip(sentence_doc, sentences[:, 0], sentences[:, 1])]
    for name, texts in (("bm25_chunks", chunk_texts), ("bm25_sentences", sentence_texts)):
        retriever = bm25s.BM25()
        retriever.index(bm25_tokens(texts), show_progress=False)
        retriever.save(str(folder / name))
    with open(folder / "documents.jsonl", "w", encoding="utf-8") as handle:
        for document in documents:
            handle.write(json.dumps({**asdict(document), "content_hash": document.content_hash}, ensure_ascii=False, default=str))
            handle.write("\n")
    manifest = Manifest(
        format_version=FORMAT_VERSION, model=model, dimension=dimension, documents=len(documents),
        chunks=len(chunk_doc), sentences=len(sentence_doc),
        document_hashes={d.id: d.content_hash for d in documents},
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        files={path.relative_to(folder).as_posix(): file_record(path)
               for path in sorted(folder.rglob("*")) if path.is_file()},
        splitter=SPLITTER_VERSION, model_languages=model_languages,
    )
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")
    sync_tree(folder)
    previous_version = _readable_version(index_dir)
    replace_file(index_dir / POINTER, folder.name + "\n")
    _remove_old_versions(index_dir, keep={folder.name, previous_version})
    return len(chunk_doc), len(sentence_doc)


def _readable_version(index_dir: Path) -> str | None:
    """The live version, or None when CURRENT is damaged; a CURRENT that is a folder is moved
    aside (to CURRENT.damaged-<time>) so that the new pointer can replace it."""
    try:
        return current_version(index_dir)
    except IndexUnavailable:
        pointer = index_dir / POINTER
        if pointer.is_dir() and not pointer.is_symlink():
            pointer.rename(index_dir / f"{POINTER}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        return None


def _write_failed(index_dir: Path, error: OSError) -> IndexUnavailable:
    """Remove this process's unfinished version folders; the one-line reason (disk full, ...)."""
    live = None
    with contextlib.suppress(IndexUnavailable):
        live = current_version(index_dir)
    for path in index_dir.glob(f"{VERSION_PREFIX}*-{os.getpid()}-*"):
        if path.is_dir() and path.name != live:
            shutil.rmtree(path, ignore_errors=True)
    reason = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
    return IndexUnavailable(f"cannot write the index in {index_dir}: {reason}; "
                            "the previous index is unchanged")


def _remove_old_versions(index_dir: Path, *, keep: set[str | None]) -> None:
    """Delete every version but the live one and the one before it, and folders of builds that died.

    The one before stays so that a reader that read CURRENT just before the switch can still load it.
    """
    for path in index_dir.glob("v-*"):
        if path.is_dir() and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
    for stale in index_dir.glob(f".{POINTER}.*"):
        stale.unlink(missing_ok=True)  # a pointer write cut short by a kill
