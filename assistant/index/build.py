"""Building an index: incremental by content hash, written as a new version, switched atomically."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.format import (
    FORMAT_VERSION, POINTER, VERSION_PREFIX, IndexUnavailable, Manifest, bm25_tokens, chunk_embedding_input,
    file_record, title_prefix,
)
from assistant.index.store import current_version, load_index, read_manifest
from assistant.index.terms import TermArrays, save_terms, term_arrays
from assistant.index.vectors import VectorIndex, choose_spec
from assistant.records import Document
from assistant.storage import BusyError, ExclusiveLock, replace_file, sync_tree


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


@dataclass(frozen=True, kw_only=True)
class _Reuse:
    """What an update takes from the live version besides each document's rows: its vector
    indexes (trained quantizers) and its stored sentence term ids (no re-tokenising)."""

    vector_indexes: dict[str, VectorIndex] = field(default_factory=dict)
    terms: TermArrays | None = None
    sentence_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Document id -> its (first, end) sentence rows in the live version."""


def _previous_rows(index_dir: Path, model: str) -> tuple[dict[str, tuple[str, _DocumentRows]], _Reuse]:
    """Per document id of the live index: (content hash, rows), for reuse by an incremental build;
    and what else of the live version an update reuses."""
    from assistant.ingest.chunking import SPLITTER_VERSION

    if current_version(index_dir) is None:
        return {}, _Reuse()
    manifest = read_manifest(index_dir)
    if manifest.model != model:
        raise IndexUnavailable(
            f"index in {index_dir} was built with model '{manifest.model}', not '{model}': "
            "rebuild it with `--full` or pass `--model` to match"
        )
    if manifest.splitter != SPLITTER_VERSION:
        return {}, _Reuse()  # spans cut by another splitter version: every document is split and embedded again
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
    return rows, _Reuse(vector_indexes={"chunks": loaded.chunk_index, "sentences": loaded.sentence_index},
                        terms=loaded.terms,
                        sentence_rows={document.id: (int(sentence_bounds[position]), int(sentence_bounds[position + 1]))
                                       for position, document in enumerate(loaded.documents)})


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
        previous, reuse = ({}, _Reuse()) if full else _previous_rows(index_dir, settings.model)
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
            unchanged = set()
            for document in documents:
                if document.id not in rows:
                    rows[document.id] = previous[document.id][1]
                    unchanged.add(document.id)
            model_dimension = embedder.dimension if embedder is not None else read_manifest(index_dir).dimension
            try:
                counts = _write_version(index_dir, documents, rows, model=settings.model, dimension=model_dimension,
                                        model_languages=model_languages, reuse=reuse, unchanged=unchanged)
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
                   model_languages: str = "", reuse: _Reuse | None = None,
                   unchanged: set[str] = frozenset()) -> tuple[int, int]:
    """Write a complete new version beside the live one, then switch CURRENT to it atomically.

    Each vector index's kind is chosen by its row count (`vectors.choose_spec`); when the
    live index has the same kind, its trained quantizers are reused (no k-means on update);
    the `unchanged` documents' sentence terms are read from the live version's term ids.
    """
    import bm25s

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
    specs = {}
    for name, vectors in (
        ("chunks", np.concatenate([r.chunk_vectors for r in ordered])),
        ("sentences", np.concatenate([r.sentence_vectors for r in ordered])),
    ):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
        vector_index = VectorIndex.build(vectors, choose_spec(len(vectors), dimension),
                                         trained=(reuse or _Reuse()).vector_indexes.get(name))
        vector_index.save(folder, name)
        specs[name] = vector_index.spec.to_json()
    chunk_texts = [
        f"{title_prefix(documents[d])}\n{documents[d].text[s:e]}" for d, s, e in zip(chunk_doc, chunks[:, 0], chunks[:, 1])
    ]
    sentence_texts = [documents[d].text[s:e] for d, s, e in zip(sentence_doc, sentences[:, 0], sentences[:, 1])]
    sentence_tokens = _sentence_tokens(documents, sentence_doc, sentence_texts, reuse or _Reuse(), unchanged)
    for name, tokens in (("bm25_chunks", bm25_tokens(chunk_texts)), ("bm25_sentences", sentence_tokens)):
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        retriever.save(str(folder / name))
    save_terms(folder, term_arrays(sentence_tokens, bm25_tokens([document.title for document in documents])))
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
        splitter=SPLITTER_VERSION, model_languages=model_languages, vectors=specs,
    )
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")
    sync_tree(folder)
    previous_version = _readable_version(index_dir)
    replace_file(index_dir / POINTER, folder.name + "\n")
    _remove_old_versions(index_dir, keep={folder.name, previous_version})
    return len(chunk_doc), len(sentence_doc)


def _sentence_tokens(documents: Sequence[Document], sentence_doc: np.ndarray, sentence_texts: list[str],
                     reuse: _Reuse, unchanged: set[str]) -> list[list[str]]:
    """BM25 tokens of every sentence: read back from the live term ids for unchanged documents,
    tokenised for the others (the same tokens: same text, same splitter, same tokenizer)."""
    bounds = np.searchsorted(sentence_doc, np.arange(len(documents) + 1))
    tokens: list[list[str]] = [[] for _ in sentence_texts]
    fresh: list[int] = []
    terms = reuse.terms
    words = list(terms.vocabulary) if terms is not None else []
    for position, document in enumerate(documents):
        start, end = int(bounds[position]), int(bounds[position + 1])
        live = reuse.sentence_rows.get(document.id) if document.id in unchanged else None
        if terms is None or live is None or live[1] - live[0] != end - start:
            fresh.extend(range(start, end))
            continue
        ids = terms.sentence_ids[terms.sentence_indptr[live[0]]:terms.sentence_indptr[live[1]]].tolist()
        cuts = (terms.sentence_indptr[live[0]:live[1] + 1] - terms.sentence_indptr[live[0]]).tolist()
        for offset in range(end - start):
            tokens[start + offset] = [words[i] for i in ids[cuts[offset]:cuts[offset + 1]]]
    if fresh:
        for row, row_tokens in zip(fresh, bm25_tokens([sentence_texts[row] for row in fresh])):
            tokens[row] = row_tokens
    return tokens


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
