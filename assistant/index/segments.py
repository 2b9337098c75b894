"""Segments: the immutable parts an index version is made of, one per publication month.

A segment holds the documents published in one month (`month_of`), with everything
retrieval needs about them: their text (read by id, never all held in memory), spans,
chunk vectors in a FAISS index of the kind its size calls for, sentence vectors, term ids
and BM25 postings (`index/bm25.py`), and per-document arrays for filters (day, outlets).
Its folder name carries a digest of what it holds, so a build writes only the months whose
documents changed and every other segment is shared, unchanged, by the next version. Row
and document numbers inside a segment are local; a loaded index numbers them one after the
other in the version's segment order (`RowStack`, `SegmentedVectors`, `DocumentStore`).

Segment folder (`segments/s-<month>-<digest>/`):

    segment.json             month, counts, vector kind, vocabulary size, every file's size and SHA-256
    ids.json                 [[document id, content hash], ...] in row order
    documents.jsonl          one document per line; documents.offsets.npy: byte offset of each line
    documents.npz            day (ordinal, -1 unknown) and outlet group of each document
    outlets.json             the distinct [publisher, source, [cited outlets]] of its documents
    credits.json             [[publisher, license, documents], ...]
    spans.npz                chunk and sentence offsets (document numbers local to the segment)
    chunks.faiss             chunk vectors (kind by size, `index/vectors.py`) [+ chunks.vectors.npy]
    sentences.npy            sentence vectors, float32, memory-mapped (read by row, never searched)
    terms/                   sentence and title term ids (CSR), in the version's vocabulary
    chunks_*.npy, sentences_*.npy   BM25 postings
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index import bm25
from assistant.index.format import SPAN_ARRAYS, bm25_tokens, chunk_embedding_input, document_from_record, file_record
from assistant.index.terms import FOLDER as TERMS_FOLDER
from assistant.index.terms import csr_ids
from assistant.index.vectors import VectorIndex, VectorSpec, choose_spec
from assistant.records import Document

SEGMENTS = "segments"
SEGMENT_PREFIX = "s-"
SEGMENT_FORMAT = 1
"""Changes when what a segment stores changes: every segment is then written again."""
UNDATED = "undated"
TERM_ARRAYS = ("sentence_indptr", "sentence_ids", "title_indptr", "title_ids")


def month_of(document: Document) -> str:
    """The segment a document belongs to: "YYYY-MM" of its publication date, or "undated"."""
    published = document.published or ""
    try:
        dt.date.fromisoformat(published)
    except ValueError:
        return UNDATED
    return published[:7]


def segment_name(month: str, documents: Sequence[Document], *, model: str, splitter: str, vocabulary_id: str) -> str:
    """`s-<month>-<digest>`: the digest covers the documents (ids, content hashes, order) and
    everything their stored rows depend on, so an equal name means an equal segment."""
    digest = hashlib.sha256(json.dumps(
        [SEGMENT_FORMAT, model, splitter, vocabulary_id, [[d.id, d.content_hash] for d in documents]]
    ).encode("utf-8")).hexdigest()[:20]
    return f"{SEGMENT_PREFIX}{month}-{digest}"


def valid_segment_name(name: str) -> bool:
    return (isinstance(name, str) and name.startswith(SEGMENT_PREFIX) and "/" not in name and "\\" not in name
            and ".." not in name and name.isprintable() and len(name) <= 120)


# ---------------------------------------------------------------- writing


@dataclass(frozen=True, kw_only=True)
class SegmentRows:
    """One document's spans and vectors (from the live index when unchanged, else embedded)."""

    chunks: np.ndarray          # (n, 2) start, end
    sentences: np.ndarray       # (m, 3) start, end, chunk position within the document
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray


def write_segment(folder: Path, month: str, documents: Sequence[Document], rows: Mapping[str, SegmentRows], *,
                  dimension: int, vocabulary: dict[str, int]) -> dict[str, Any]:
    """Write one segment into the new folder `folder` (its name from `segment_name`).

    New terms are appended to `vocabulary` (term ids of earlier segments stay valid).
    Returns the segment's record (what segment.json holds).
    """
    folder.mkdir(parents=True)
    ordered = [rows[d.id] for d in documents]
    chunk_doc = np.concatenate([np.full(len(r.chunks), i, dtype=np.int32) for i, r in enumerate(ordered)])
    chunks = np.concatenate([r.chunks for r in ordered]).astype(np.int32).reshape(-1, 2)
    sentence_doc = np.concatenate([np.full(len(r.sentences), i, dtype=np.int32) for i, r in enumerate(ordered)])
    sentences = np.concatenate([r.sentences for r in ordered]).astype(np.int32).reshape(-1, 3)
    chunk_offsets = np.cumsum([0] + [len(r.chunks) for r in ordered[:-1]]).astype(np.int32)
    sentence_chunk = sentences[:, 2] + chunk_offsets[sentence_doc] if len(sentences) else sentences[:, 2]
    np.savez(folder / "spans.npz", chunk_doc=chunk_doc, chunk_start=chunks[:, 0], chunk_end=chunks[:, 1],
             sentence_doc=sentence_doc, sentence_start=sentences[:, 0], sentence_end=sentences[:, 1],
             sentence_chunk=sentence_chunk.astype(np.int32))
    chunk_vectors = np.concatenate([r.chunk_vectors for r in ordered]).astype(np.float32).reshape(-1, dimension)
    vector_index = VectorIndex.build(chunk_vectors, choose_spec(len(chunk_vectors), dimension))
    vector_index.save(folder, "chunks")
    np.save(folder / "sentences.npy", np.concatenate([r.sentence_vectors for r in ordered]).astype(np.float32)
            .reshape(-1, dimension))

    chunk_texts = [chunk_embedding_input(documents[d], documents[d].text[s:e])
                   for d, s, e in zip(chunk_doc.tolist(), chunks[:, 0].tolist(), chunks[:, 1].tolist())]
    sentence_texts = [documents[d].text[s:e]
                      for d, s, e in zip(sentence_doc.tolist(), sentences[:, 0].tolist(), sentences[:, 1].tolist())]
    sentence_indptr, sentence_ids = csr_ids(bm25_tokens(sentence_texts), vocabulary)
    title_indptr, title_ids = csr_ids(bm25_tokens([d.title for d in documents]), vocabulary)
    chunk_indptr, chunk_ids = csr_ids(bm25_tokens(chunk_texts), vocabulary)
    (folder / TERMS_FOLDER).mkdir()
    for name, array in zip(TERM_ARRAYS, (sentence_indptr, sentence_ids, title_indptr, title_ids)):
        np.save(folder / TERMS_FOLDER / f"{name}.npy", array)
    bm25.save_postings(folder, "chunks", bm25.postings(chunk_indptr, chunk_ids, len(vocabulary)))
    bm25.save_postings(folder, "sentences", bm25.postings(sentence_indptr, sentence_ids, len(vocabulary)))

    _write_documents(folder, documents)
    record = {
        "format": SEGMENT_FORMAT, "month": month, "documents": len(documents), "chunks": len(chunk_doc),
        "sentences": len(sentence_doc), "dimension": dimension, "vocabulary": len(vocabulary),
        "vectors": vector_index.spec.to_json(),
    }
    record["files"] = {path.relative_to(folder).as_posix(): file_record(path)
                       for path in sorted(folder.rglob("*")) if path.is_file()}
    (folder / "segment.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def _write_documents(folder: Path, documents: Sequence[Document]) -> None:
    offsets = [0]
    with open(folder / "documents.jsonl", "wb") as handle:
        for document in documents:
            line = json.dumps({**asdict(document), "content_hash": document.content_hash},
                              ensure_ascii=False, default=str).encode("utf-8") + b"\n"
            handle.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(folder / "documents.offsets.npy", np.asarray(offsets, dtype=np.int64))
    (folder / "ids.json").write_text(json.dumps([[d.id, d.content_hash] for d in documents], ensure_ascii=False),
                                     encoding="utf-8")
    combinations: dict[tuple[Any, ...], int] = {}
    groups = [combinations.setdefault(outlet_combination(d), len(combinations)) for d in documents]
    days = [dt.date.fromisoformat(d.published).toordinal() if month_of(d) != UNDATED else -1 for d in documents]
    np.savez(folder / "documents.npz", day=np.asarray(days, dtype=np.int64), outlet=np.asarray(groups, dtype=np.int32))
    (folder / "outlets.json").write_text(json.dumps([[p, s, list(c)] for p, s, c in combinations], ensure_ascii=False),
                                         encoding="utf-8")
    credits: dict[tuple[str, str | None], int] = {}
    for document in documents:
        key = (document.publisher or document.source, document.license)
        credits[key] = credits.get(key, 0) + 1
    (folder / "credits.json").write_text(json.dumps([[p, lic, n] for (p, lic), n in credits.items()],
                                                    ensure_ascii=False), encoding="utf-8")


def outlet_combination(document: Document) -> tuple[str, str, tuple[str, ...]]:
    """What a document's outlets are computed from: publisher, source, cited outlets."""
    return (document.publisher, document.source, tuple(cite.name for cite in document.cites))


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One segment as loaded: small arrays in memory, large ones memory-mapped."""

    folder: Path
    record: dict[str, Any]
    spans: dict[str, np.ndarray]
    chunk_index: VectorIndex
    sentence_vectors: np.ndarray
    terms: dict[str, np.ndarray]
    chunk_postings: bm25.Postings
    sentence_postings: bm25.Postings
    days: np.ndarray
    outlet_group: np.ndarray
    outlets: list[tuple[str, str, tuple[str, ...]]]
    credits: list[tuple[str, str | None, int]]
    offsets: np.ndarray


def segment_files(record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(record.get("files") or {})


def read_segment_record(folder: Path) -> dict[str, Any]:
    record = json.loads((folder / "segment.json").read_text(encoding="utf-8"))
    if not isinstance(record, dict) or record.get("format") != SEGMENT_FORMAT:
        raise ValueError(f"{folder.name}/segment.json is not a segment record of format {SEGMENT_FORMAT}")
    return record


def load_segment(folder: Path, record: dict[str, Any]) -> Segment:
    """Read one segment (its files already checked against `record`); ValueError on damage."""
    with np.load(folder / "spans.npz") as stored:
        spans = {key: stored[key] for key in SPAN_ARRAYS}
    with np.load(folder / "documents.npz") as stored:
        days, outlet_group = stored["day"], stored["outlet"]
    return Segment(
        folder=folder, record=record, spans=spans,
        chunk_index=VectorIndex.load(folder, "chunks", VectorSpec(**record["vectors"])),
        sentence_vectors=np.load(folder / "sentences.npy", mmap_mode="r").view(np.ndarray),
        terms={name: np.load(folder / TERMS_FOLDER / f"{name}.npy", mmap_mode="r").view(np.ndarray)
               for name in TERM_ARRAYS},
        chunk_postings=bm25.load_postings(folder, "chunks"),
        sentence_postings=bm25.load_postings(folder, "sentences"),
        days=days, outlet_group=outlet_group,
        outlets=[(p, s, tuple(c)) for p, s, c in json.loads((folder / "outlets.json").read_text(encoding="utf-8"))],
        credits=[(p, lic, int(n)) for p, lic, n in json.loads((folder / "credits.json").read_text(encoding="utf-8"))],
        offsets=np.load(folder / "documents.offsets.npy"),
    )


def read_ids(folder: Path) -> list[tuple[str, str]]:
    """[(document id, content hash)] of a segment, in row order."""
    return [(doc_id, digest) for doc_id, digest in json.loads((folder / "ids.json").read_text(encoding="utf-8"))]


class RowStack:
    """The rows of several arrays (one per segment) as one (rows, dimension) array for reading:
    `stack[rows]`, `stack[a:b]`, `stack[i]`; each part stays where it is (memory map, FAISS buffer)."""

    def __init__(self, parts: Sequence[np.ndarray], dimension: int) -> None:
        self.parts = tuple(parts)
        self.offsets = np.concatenate([[0], np.cumsum([len(p) for p in self.parts], dtype=np.int64)])
        self.shape = (int(self.offsets[-1]), dimension)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            row = int(key) + (len(self) if key < 0 else 0)
            return self._gather(np.asarray([row]))[0]
        if isinstance(key, slice):
            return self._gather(np.arange(*key.indices(len(self))))
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        return self._gather(rows.astype(np.int64).reshape(-1))

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        if len(rows) == 0:
            return out
        if rows.min() < 0 or rows.max() >= len(self):
            raise IndexError(f"row out of range 0..{len(self) - 1}")
        part_of = np.searchsorted(self.offsets, rows, side="right") - 1
        for part in np.unique(part_of).tolist():
            here = part_of == part
            out[here] = self.parts[part][rows[here] - self.offsets[part]]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = (np.concatenate(self.parts) if self.parts else np.zeros(self.shape, dtype=np.float32))
        return whole.astype(dtype) if dtype is not None else whole


class SegmentedVectors:
    """The segments' chunk indexes behind `VectorIndex`'s reading interface.

    An exact (flat) segment is scored whole, by one matrix-vector product over its memory-mapped
    rows, and its allowed rows kept; an approximate (IVF) one is asked by FAISS for its own top k,
    the filter as an ID selector. A segment with no row `allowed` is skipped. The best k of all
    segments are returned, ties by row. Why not FAISS's top k for the flat segments too: for one
    question both read every row (memory-bound: 23 ms for 300k x 256 float32 on this machine),
    but FAISS's top 1,024 per segment costs 35 ms against 23 ms for its top 256, and retrieval
    asks again, 4x deeper, for about one question in ten; the whole scores answer that second
    ask without a second scan (300k archive, 100 questions: p95 45 ms this way, 96 ms with FAISS
    per segment).
    """

    def __init__(self, indexes: Sequence[VectorIndex], dimension: int) -> None:
        self.indexes = tuple(indexes)
        self.vectors = RowStack([index.vectors for index in self.indexes], dimension)
        self.offsets = self.vectors.offsets
        self._dimension = dimension
        self._last = threading.local()

    @property
    def count(self) -> int:
        return len(self.vectors)

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def exhaustive(self) -> bool:
        return all(index.exhaustive for index in self.indexes)

    @property
    def kinds(self) -> dict[str, int]:
        """Segments per FAISS factory string."""
        kinds: dict[str, int] = {}
        for index in self.indexes:
            kinds[index.spec.factory] = kinds.get(index.spec.factory, 0) + 1
        return kinds

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        # Retrieval may ask again, deeper, for the same question and filter: the scores of the
        # last search (per thread) are kept, so a deeper list costs no second scan.
        key = (query.tobytes(), None if allowed is None else hash(np.packbits(allowed).tobytes()))
        last = getattr(self._last, "search", None)
        if last is not None and last[0] == key:
            scores, rows = last[1], last[2]
        else:
            scores, rows = self._scan(query, k, allowed)
            if self.exhaustive:
                self._last.search = (key, scores, rows)
        if len(scores) > k:
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            keep = scores >= kth
            scores, rows = scores[keep], rows[keep]
        order = np.lexsort((rows, -scores))[:k]
        return scores[order], rows[order]

    def _scan(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of every allowed row of the exact segments and of each approximate one's top k."""
        scores, rows = [], []
        for index, start, end in zip(self.indexes, self.offsets[:-1].tolist(), self.offsets[1:].tolist()):
            mask = None if allowed is None else allowed[start:end]
            if end == start or (mask is not None and not mask.any()):
                continue
            if index.exhaustive:
                local = np.arange(end - start) if mask is None or mask.all() else np.flatnonzero(mask)
                part = index.vectors @ query
                scores.append(part if len(local) == end - start else part[local])
                rows.append(local + start)
            else:
                found_scores, found_rows = index.search(query, k, None if mask is None or mask.all() else mask)
                scores.append(found_scores)
                rows.append(found_rows + start)
        if not scores:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        return np.concatenate(scores).astype(np.float32), np.concatenate(rows).astype(np.int64)


class DocumentStore(Sequence[Document]):
    """Every document of the loaded segments, read from disk when asked for (a small cache of
    recently read ones), numbered in segment order. `by_id` looks one up by its id."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = tuple(segments)
        self.starts = np.concatenate([[0], np.cumsum([len(s.offsets) - 1 for s in self.segments], dtype=np.int64)])
        self._read = lru_cache(maxsize=4096)(self._read_uncached)
        self._positions: dict[str, int] | None = None
        # Open once: a later build may delete a segment this index still reads (its file stays
        # readable through the open descriptor until the service loads the new version).
        self._files = [os.open(segment.folder / "documents.jsonl", os.O_RDONLY) for segment in self.segments]

    def __del__(self) -> None:
        for descriptor in getattr(self, "_files", ()):
            with contextlib.suppress(OSError):
                os.close(descriptor)

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, position: Any) -> Any:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        position = int(position)
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(f"document {position} out of range")
        return self._read(position)

    def __iter__(self) -> Iterator[Document]:
        for segment, descriptor in zip(self.segments, self._files):
            text = os.pread(descriptor, int(segment.offsets[-1]), 0)
            for line in text.splitlines():
                yield document_from_record(json.loads(line))

    def _read_uncached(self, position: int) -> Document:
        part = int(np.searchsorted(self.starts, position, side="right")) - 1
        segment = self.segments[part]
        local = position - int(self.starts[part])
        start, end = int(segment.offsets[local]), int(segment.offsets[local + 1])
        return document_from_record(json.loads(os.pread(self._files[part], end - start, start)))

    def position(self, doc_id: str) -> int | None:
        if self._positions is None:
            positions: dict[str, int] = {}
            for segment, start in zip(self.segments, self.starts[:-1].tolist()):
                for offset, (identifier, _) in enumerate(read_ids(segment.folder)):
                    positions[identifier] = start + offset
            self._positions = positions
        return self._positions.get(doc_id)

    @property
    def by_id(self) -> DocumentsById:
        return DocumentsById(self)


class DocumentsById(Mapping[str, Document]):
    """A read-only mapping id -> document over a `DocumentStore` (ids indexed on first use)."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def __getitem__(self, doc_id: str) -> Document:
        position = self.store.position(doc_id)
        if position is None:
            raise KeyError(doc_id)
        return self.store[position]

    def __iter__(self) -> Iterator[str]:
        return (document.id for document in self.store)

    def __len__(self) -> int:
        return len(self.store)
