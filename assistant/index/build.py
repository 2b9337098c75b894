"""Building an index: segments by month, written only when their documents change; a new version
listing them is switched in atomically.

An update embeds only added or changed documents and rewrites only the months they are in (their
unchanged neighbours' vectors are copied from the live segment); every other month's segment is
shared, as it is, with the new version."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.format import (
    FORMAT_VERSION, POINTER, VERSION_PREFIX, VOCABULARY_FILE, IndexUnavailable, Manifest, chunk_embedding_input,
    file_record,
)
from assistant.index.segments import (
    SEGMENTS, UNDATED, SegmentRows, month_of, read_ids, read_segment_record, segment_name, write_segment,
)
from assistant.index.store import LoadedIndex, current_version, live_folder, load_index, read_manifest
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
    segments: int = 0
    segments_written: int = 0
    """Segments of the new version, and how many of them this build wrote (the rest were kept)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_DocumentRows = SegmentRows
"""One document's spans and vectors (the embedding stage's result per document)."""


@dataclass(frozen=True, kw_only=True)
class _Live:
    """What an update reuses of the live version: its segments (checked at load), where each
    document's rows are, and the vocabulary its segments' term ids refer to."""

    loaded: LoadedIndex | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    """Document id -> content hash in the live version."""
    places: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Document id -> (segment number, position in that segment)."""
    vocabulary: dict[str, int] = field(default_factory=dict)
    vocabulary_id: str = ""


def _live_state(index_dir: Path, model: str) -> _Live:
    """The live version for an incremental build; an empty `_Live` (a full build) when there is
    none, when it has another format or was cut by another splitter version."""
    from assistant.ingest.chunking import SPLITTER_VERSION

    if current_version(index_dir) is None or _live_format(index_dir) != FORMAT_VERSION:
        return _Live()
    manifest = read_manifest(index_dir)
    if manifest.model != model:
        raise IndexUnavailable(
            f"index in {index_dir} was built with model '{manifest.model}', not '{model}': "
            "rebuild it with `--full` or pass `--model` to match"
        )
    if manifest.splitter != SPLITTER_VERSION:
        return _Live()  # spans cut by another splitter version: every document is split and embedded again
    loaded = load_index(index_dir)
    hashes, places = {}, {}
    for number, segment in enumerate(loaded.segments):
        for position, (doc_id, digest) in enumerate(read_ids(segment.folder)):
            hashes[doc_id] = digest
            places[doc_id] = (number, position)
    return _Live(loaded=loaded, hashes=hashes, places=places, vocabulary=dict(loaded.terms.vocabulary),
                 vocabulary_id=manifest.vocabulary_id)


def _live_format(index_dir: Path) -> int | None:
    """The live manifest's format number, None when unreadable (the load then says why)."""
    try:
        return int(json.loads((live_folder(index_dir) / "manifest.json").read_text(encoding="utf-8"))["format_version"])
    except (OSError, ValueError, KeyError, TypeError):
        return FORMAT_VERSION


def _reused_rows(live: _Live, doc_id: str) -> SegmentRows:
    """A document's spans and vectors as its live segment stores them."""
    number, position = live.places[doc_id]
    segment = live.loaded.segments[number]
    spans = segment.spans
    c0, c1 = np.searchsorted(spans["chunk_doc"], [position, position + 1])
    s0, s1 = np.searchsorted(spans["sentence_doc"], [position, position + 1])
    return SegmentRows(
        chunks=np.stack([spans["chunk_start"][c0:c1], spans["chunk_end"][c0:c1]], axis=1),
        sentences=np.stack([spans["sentence_start"][s0:s1], spans["sentence_end"][s0:s1],
                            spans["sentence_chunk"][s0:s1] - c0], axis=1),
        chunk_vectors=np.asarray(segment.chunk_index.vectors[c0:c1], dtype=np.float32),
        sentence_vectors=np.asarray(segment.sentence_vectors[s0:s1], dtype=np.float32),
    )


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
        live = _Live() if full else _live_state(index_dir, settings.model)
        vocabulary_id = live.vocabulary_id or uuid.uuid4().hex
        plan = _plan_segments(documents, live, model=settings.model, vocabulary_id=vocabulary_id)
        changed = [d for month in plan.to_write for d in plan.months[month] if live.hashes.get(d.id) != d.content_hash]
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
        recorded_languages = _recorded_languages(index_dir, settings.model)
        model_languages = _model_languages(settings, recorded_languages)
        live_names = list(live.loaded.manifest.segments) if live.loaded is not None else None
        if plan.to_write or list(plan.names.values()) != live_names or model_languages != recorded_languages:
            dimension = embedder.dimension if embedder is not None else live.loaded.manifest.dimension
            try:
                counts = _write_version(index_dir, plan, rows, live, model=settings.model, dimension=dimension,
                                        model_languages=model_languages, vocabulary_id=vocabulary_id)
            except OSError as error:
                raise _write_failed(index_dir, error) from error
        else:
            manifest = live.loaded.manifest
            counts = (manifest.chunks, manifest.sentences)
    new_ids = {d.id for d in documents}
    updated = sum(1 for d in changed if d.id in live.hashes)
    return BuildReport(
        documents=len(documents), chunks=counts[0], sentences=counts[1],
        added=len(changed) - updated, updated=updated,
        removed=sum(1 for doc_id in live.hashes if doc_id not in new_ids),
        unchanged=len(documents) - len(changed), embedded_texts=embedded_texts,
        seconds=round(time.perf_counter() - started, 3), embedding_seconds=round(embedding_seconds, 3),
        index=str(index_dir), segments=len(plan.names), segments_written=len(plan.to_write),
    )


@dataclass(frozen=True, kw_only=True)
class _Plan:
    months: dict[str, list[Document]]
    """Documents per month, months in order (undated last), documents in corpus order."""
    names: dict[str, str]
    """Month -> segment name."""
    to_write: tuple[str, ...]
    """Months whose segment the live version does not have."""


def _plan_segments(documents: Sequence[Document], live: _Live, *, model: str, vocabulary_id: str) -> _Plan:
    from assistant.ingest.chunking import SPLITTER_VERSION

    months: dict[str, list[Document]] = {}
    for document in documents:
        months.setdefault(month_of(document), []).append(document)
    months = {month: months[month] for month in sorted(months, key=lambda m: (m == UNDATED, m))}
    names = {month: segment_name(month, group, model=model, splitter=SPLITTER_VERSION, vocabulary_id=vocabulary_id)
             for month, group in months.items()}
    existing = set(live.loaded.manifest.segments) if live.loaded is not None else set()
    return _Plan(months=months, names=names, to_write=tuple(m for m, name in names.items() if name not in existing))


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


def _write_version(index_dir: Path, plan: _Plan, rows: dict[str, SegmentRows], live: _Live, *, model: str,
                   dimension: int, model_languages: str, vocabulary_id: str) -> tuple[int, int]:
    """Write the segments `plan` lacks, then a version listing every segment, then switch CURRENT to
    it atomically; remove versions and segments no longer needed. Returns (chunks, sentences)."""
    from assistant.ingest.chunking import SPLITTER_VERSION

    vocabulary = dict(live.vocabulary) if live.vocabulary_id == vocabulary_id else {}
    segments_dir = index_dir / SEGMENTS
    segments_dir.mkdir(exist_ok=True)
    records: dict[str, dict[str, Any]] = {}
    for month, name in plan.names.items():
        final = segments_dir / name
        if month in plan.to_write and not final.is_dir():
            group = plan.months[month]
            group_rows = {d.id: rows[d.id] if d.id in rows else _reused_rows(live, d.id) for d in group}
            partial = segments_dir / f".{name}.{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
            records[name] = write_segment(partial, month, group, group_rows, dimension=dimension, vocabulary=vocabulary)
            sync_tree(partial)
            partial.rename(final)
        else:
            records[name] = read_segment_record(final)
    folder = index_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    folder.mkdir()
    words = sorted(vocabulary, key=vocabulary.__getitem__)
    (folder / VOCABULARY_FILE).write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
    counts = {key: sum(record[key] for record in records.values()) for key in ("documents", "chunks", "sentences")}
    manifest = Manifest(
        format_version=FORMAT_VERSION, model=model, dimension=dimension, **counts,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        files={VOCABULARY_FILE: file_record(folder / VOCABULARY_FILE)},
        splitter=SPLITTER_VERSION, model_languages=model_languages,
        segments={name: file_record(segments_dir / name / "segment.json") for name in records},
        vocabulary_id=vocabulary_id,
    )
    (folder / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1), encoding="utf-8")
    sync_tree(folder)
    previous_version = _readable_version(index_dir)
    replace_file(index_dir / POINTER, folder.name + "\n")
    _remove_old_versions(index_dir, keep={folder.name, previous_version})
    return counts["chunks"], counts["sentences"]


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
    for path in [*index_dir.glob(f"{VERSION_PREFIX}*-{os.getpid()}-*"), *(index_dir / SEGMENTS).glob(f".*.{os.getpid()}-*")]:
        if path.is_dir() and path.name != live:
            shutil.rmtree(path, ignore_errors=True)
    reason = "the disk is full" if error.errno == errno.ENOSPC else (error.strerror or str(error))
    return IndexUnavailable(f"cannot write the index in {index_dir}: {reason}; "
                            "the previous index is unchanged")


def _remove_old_versions(index_dir: Path, *, keep: set[str | None]) -> None:
    """Delete every version but the live one and the one before it, folders of builds that died, and
    segments neither kept version lists.

    The one before stays so that a reader that read CURRENT just before the switch can still load it.
    """
    listed: set[str] = set()
    for path in index_dir.glob("v-*"):
        if not path.is_dir():
            continue
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
            continue
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            listed.update(json.loads((path / "manifest.json").read_text(encoding="utf-8"))["segments"])
    for path in (index_dir / SEGMENTS).glob("*"):
        if path.is_dir() and path.name not in listed:
            shutil.rmtree(path, ignore_errors=True)  # a segment no version lists, or one whose build died
    for stale in index_dir.glob(f".{POINTER}.*"):
        stale.unlink(missing_ok=True)  # a pointer write cut short by a kill
