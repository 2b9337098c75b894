"""Reading an index: the live version, its manifest, load (checked against the manifest), verify, statistics.

The folder layout and manifest are described in `index/format.py`; builds are in `index/build.py`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.format import (  # noqa: F401 - the format's names callers use are re-exported here
    FORMAT_VERSION, MAX_POINTER_BYTES, POINTER, SPAN_ARRAYS, VERSION_PREFIX, VOCABULARY_FILE, IndexUnavailable,
    Manifest, bm25_tokens, chunk_embedding_input, document_from_record, file_record, title_prefix, valid_version_name,
)
from assistant.index.bm25 import SegmentedBM25
from assistant.index.segments import (
    SEGMENTS, DocumentStore, RowStack, Segment, SegmentedVectors, load_segment, read_segment_record, segment_files,
    valid_segment_name,
)
from assistant.index.terms import TermArrays


@dataclass(frozen=True, kw_only=True)
class LoadedIndex:
    """An index as loaded: its segments, one after the other (`index/segments.py`).

    Document, chunk and sentence numbers run over all segments in the version's order;
    offsets index `documents[doc].text` (documents are read from disk by number when asked for).
    Row i of `chunk_index` / `sentence_rows` is chunk / sentence i.
    """

    path: Path
    manifest: Manifest
    segments: tuple[Segment, ...]
    documents: DocumentStore
    chunk_doc: np.ndarray
    chunk_start: np.ndarray
    chunk_end: np.ndarray
    sentence_doc: np.ndarray
    sentence_start: np.ndarray
    sentence_end: np.ndarray
    sentence_chunk: np.ndarray
    chunk_index: SegmentedVectors
    sentence_rows: RowStack
    chunk_bm25: SegmentedBM25
    sentence_bm25: SegmentedBM25
    terms: TermArrays
    """Term ids per sentence and title, in the version's vocabulary; IDF over all sentences."""
    doc_day: np.ndarray
    """Published date of each document as an ordinal day, -1 when unknown."""
    outlet_combinations: tuple[tuple[str, str, tuple[str, ...]], ...]
    """The distinct (publisher, source, cited outlets) of the documents; `doc_outlet_group[d]` is d's."""
    doc_outlet_group: np.ndarray
    credit_counts: dict[tuple[str, str | None], int]
    """Documents per (publisher as given, license)."""

    def chunk_text(self, row: int) -> str:
        return self.documents[self.chunk_doc[row]].text[self.chunk_start[row]:self.chunk_end[row]]

    def sentence_text(self, row: int) -> str:
        return self.documents[self.sentence_doc[row]].text[self.sentence_start[row]:self.sentence_end[row]]

    def chunk_vectors(self) -> RowStack:
        """The stored chunk vectors, (n, dimension) float32 rows (read by row; `np.asarray` copies all)."""
        return self.chunk_index.vectors

    def sentence_vectors(self) -> RowStack:
        """The stored sentence vectors, (n, dimension) float32 rows."""
        return self.sentence_rows


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


LOAD_CHECKSUM_MAX_BYTES = 256 * 2**20
"""At load, when the bulk numeric files of the whole index (`is_bulk`: vectors, FAISS codes, term
ids, postings) hold more than this many bytes, they are checked by size only, so a large archive
loads without reading every byte of its memory-mapped arrays; `verify` checks every checksum. The
documents, their line offsets, the spans and the records (the quoted words, where they are, their
bylines) are always checked in full."""
BULK_SUFFIXES = (".faiss", ".npy")


def is_bulk(name: str) -> bool:
    return name.endswith(BULK_SUFFIXES) and not Path(name).name.startswith("documents.")


def check_files(folder: Path, files: dict[str, dict[str, Any]], *, checksums: bool = True,
                bulk_checksums: bool = True) -> list[str]:
    """What in `folder` does not match its file records ({name: {"bytes", "sha256"}}): missing files,
    sizes, checksums (`checksums=False` compares sizes only; `bulk_checksums=False`, sizes only for
    bulk files). Problems name the file relative to `folder`."""
    problems = []
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        size = path.stat().st_size
        if size != expected.get("bytes"):
            problems.append(f"{name} has {size:,} bytes, the manifest says {expected.get('bytes')}")
        elif (checksums and (bulk_checksums or not is_bulk(name))
              and file_record(path)["sha256"] != expected.get("sha256")):
            problems.append(f"{name} does not match its checksum")
    return problems


def segment_folder(index_dir: Path, name: str) -> Path:
    return Path(index_dir) / SEGMENTS / name


def check_segments(index_dir: Path, manifest: Manifest, *, checksums: bool = True,
                   bulk_budget: int | None = None) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Every segment of the version against its record: segment.json against the version's manifest,
    then the segment's files against segment.json. With `bulk_budget`, bulk files are checked by
    size only when the index's bulk files hold more bytes than that. Returns the problems (each
    naming `segments/<name>/<file>`) and the records read (name -> segment.json)."""
    problems, records = [], {}
    for name, expected in manifest.segments.items():
        if not valid_segment_name(name):
            problems.append(f"the manifest names {name[:80]!r}, which is not a segment name")
            continue
        folder = segment_folder(index_dir, name)
        found = check_files(folder, {"segment.json": expected}, checksums=checksums)
        if not found:
            try:
                records[name] = read_segment_record(folder)
            except (OSError, ValueError) as error:
                found = [f"segment.json: {error}"]
        problems += [f"{SEGMENTS}/{name}/{problem}" for problem in found]
    bulk = sum(record.get("bytes", 0) for segment in records.values()
               for file, record in segment_files(segment).items() if is_bulk(file))
    bulk_checksums = bulk_budget is None or bulk <= bulk_budget
    for name, record in records.items():
        problems += [f"{SEGMENTS}/{name}/{problem}" for problem in check_files(
            segment_folder(index_dir, name), segment_files(record), checksums=checksums, bulk_checksums=bulk_checksums)]
    return problems, records


def check_counts(index: LoadedIndex) -> list[str]:
    """Where the loaded arrays disagree with the manifests or with each other."""
    manifest = index.manifest
    problems = []
    for segment in index.segments:
        record, spans = segment.record, segment.spans
        where = f"{SEGMENTS}/{segment.folder.name}"
        documents = len(segment.offsets) - 1
        if documents != record["documents"] or len(segment.days) != documents or len(segment.outlet_group) != documents:
            problems.append(f"{where}/documents.jsonl does not hold the {record['documents']:,} documents its segment.json says")
        if any(len(spans[key]) != record["chunks"] for key in ("chunk_doc", "chunk_start", "chunk_end")):
            problems.append(f"{where}/spans.npz chunk rows do not match segment.json's {record['chunks']:,}")
        if any(len(spans[key]) != record["sentences"]
               for key in ("sentence_doc", "sentence_start", "sentence_end", "sentence_chunk")):
            problems.append(f"{where}/spans.npz sentence rows do not match segment.json's {record['sentences']:,}")
        if segment.chunk_index.count != record["chunks"] or segment.chunk_index.dimension != manifest.dimension:
            problems.append(f"{where}/chunks.faiss holds {segment.chunk_index.count:,} vectors of dimension "
                            f"{segment.chunk_index.dimension}, segment.json says {record['chunks']:,} of {manifest.dimension}")
        if segment.sentence_vectors.shape != (record["sentences"], manifest.dimension):
            problems.append(f"{where}/sentences.npy holds {segment.sentence_vectors.shape}, segment.json says "
                            f"({record['sentences']:,}, {manifest.dimension})")
        if (segment.chunk_postings.row_count != record["chunks"]
                or segment.sentence_postings.row_count != record["sentences"]):
            problems.append(f"{where}: the BM25 postings do not match segment.json's rows")
        if len(segment.outlet_group) and (segment.outlet_group.min() < 0
                                          or segment.outlet_group.max() >= len(segment.outlets)):
            problems.append(f"{where}/documents.npz outlet groups are out of range")
    if problems:
        return problems
    totals = {"documents": len(index.documents), "chunks": len(index.chunk_doc), "sentences": len(index.sentence_doc)}
    for name, found in totals.items():
        if found != getattr(manifest, name):
            problems.append(f"the segments hold {found:,} {name}, the manifest says {getattr(manifest, name):,}")
    problems += _check_terms(index.terms, manifest)
    if problems:
        return problems
    for doc, start, end, name in ((index.chunk_doc, index.chunk_start, index.chunk_end, "chunk"),
                                  (index.sentence_doc, index.sentence_start, index.sentence_end, "sentence")):
        if len(doc) and (doc.min() < 0 or doc.max() >= len(index.documents) or np.any(np.diff(doc) < 0)):
            problems.append(f"spans.npz {name} documents are out of range or order")
        elif len(doc) and (np.any(start < 0) or np.any(end < start)):
            problems.append(f"spans.npz {name} offsets are out of range")
    if len(index.sentence_chunk) and (index.sentence_chunk.min() < 0 or index.sentence_chunk.max() >= manifest.chunks):
        problems.append("spans.npz sentence chunks are out of range")
    return problems


def _check_text_ends(index: LoadedIndex) -> list[str]:
    """Spans that run past their document's text (reads every document: `verify` only)."""
    lengths = np.array([len(document.text) for document in index.documents])
    for doc, end, name in ((index.chunk_doc, index.chunk_end, "chunk"), (index.sentence_doc, index.sentence_end, "sentence")):
        if len(doc) and np.any(end > lengths[doc]):
            return [f"spans.npz {name} offsets run past their document's text"]
    return []


def _check_terms(terms: TermArrays, manifest: Manifest) -> list[str]:
    for name, indptr, ids, rows in (("sentence", terms.sentence_indptr, terms.sentence_ids, manifest.sentences),
                                    ("title", terms.title_indptr, terms.title_ids, manifest.documents)):
        if len(indptr) != rows + 1 or indptr[0] != 0 or indptr[-1] != len(ids) or np.any(np.diff(indptr) < 0):
            return [f"terms/{name}_indptr does not match the manifest's {rows:,} rows"]
        if len(ids) and (ids.min() < 0 or ids.max() >= len(terms.vocabulary)):
            return [f"terms/{name}_ids are out of the vocabulary's range"]
    return []


def load_index(index_dir: Path, *, checksums: bool = True) -> LoadedIndex:
    """Load the live version of the index in `index_dir`, or raise IndexUnavailable.

    Every load checks the version's files and every segment's files against their records:
    sizes, and (with `checksums`, the default) SHA-256 (the bulk arrays of an index holding more
    than `LOAD_CHECKSUM_MAX_BYTES` of them: size only); then the row counts of documents, spans, vectors and postings against the
    records and each other, so a damaged or partial version is refused with one line instead
    of answering wrongly. `verify` checks the same and more.
    """
    index_dir = Path(index_dir)
    # CURRENT is read once, so a build switching it meanwhile cannot mix two versions.
    folder = live_folder(index_dir)
    manifest = read_manifest(index_dir, folder)
    problems = check_files(folder, manifest.files, checksums=checksums)
    if problems:
        raise _damaged(index_dir, problems[0])
    problems, records = check_segments(index_dir, manifest, checksums=checksums, bulk_budget=LOAD_CHECKSUM_MAX_BYTES)
    if problems:
        raise _damaged(index_dir, problems[0])
    try:
        loaded = _assemble(folder, manifest, [load_segment(segment_folder(index_dir, name), records[name])
                                              for name in manifest.segments])
    except Exception as error:  # noqa: BLE001 - any damage to stored files is one line, never a crash
        raise _damaged(index_dir, f"{type(error).__name__}: {error}") from error
    problems = check_counts(loaded)
    if problems:
        raise _damaged(index_dir, problems[0])
    return loaded


def _assemble(folder: Path, manifest: Manifest, segments: list[Segment]) -> LoadedIndex:
    """One numbering over the segments: spans and term ids concatenated (small), vectors,
    postings and documents left where they are behind `RowStack`, `SegmentedBM25`, `DocumentStore`."""
    words = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
    vocabulary = {word: number for number, word in enumerate(words)}
    documents = DocumentStore(segments)
    doc_starts = documents.starts[:-1]
    chunk_starts = np.concatenate([[0], np.cumsum([s.record["chunks"] for s in segments], dtype=np.int64)])[:-1]

    def joined(key: str, shift: Any = None) -> np.ndarray:
        parts = [s.spans[key] + (0 if shift is None else int(shift[i])) for i, s in enumerate(segments)]
        return np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)

    sentence_bm25 = SegmentedBM25(vocabulary, [s.sentence_postings for s in segments])
    combinations: dict[tuple[str, str, tuple[str, ...]], int] = {}
    groups = [np.asarray([combinations.setdefault(c, len(combinations)) for c in s.outlets], dtype=np.int32)[s.outlet_group]
              if len(s.outlets) else np.zeros(0, dtype=np.int32) for s in segments]
    credits: dict[tuple[str, str | None], int] = {}
    for segment in segments:
        for publisher, license_name, count in segment.credits:
            credits[(publisher, license_name)] = credits.get((publisher, license_name), 0) + count
    return LoadedIndex(
        path=folder, manifest=manifest, segments=tuple(segments), documents=documents,
        chunk_doc=joined("chunk_doc", doc_starts), chunk_start=joined("chunk_start"), chunk_end=joined("chunk_end"),
        sentence_doc=joined("sentence_doc", doc_starts), sentence_start=joined("sentence_start"),
        sentence_end=joined("sentence_end"), sentence_chunk=joined("sentence_chunk", chunk_starts),
        chunk_index=SegmentedVectors([s.chunk_index for s in segments], manifest.dimension),
        sentence_rows=RowStack([s.sentence_vectors for s in segments], manifest.dimension),
        chunk_bm25=SegmentedBM25(vocabulary, [s.chunk_postings for s in segments]),
        sentence_bm25=sentence_bm25,
        terms=TermArrays(vocabulary=vocabulary,
                         sentence_indptr=_joined_csr([s.terms["sentence_indptr"] for s in segments]),
                         sentence_ids=_joined_ids([s.terms["sentence_ids"] for s in segments]),
                         title_indptr=_joined_csr([s.terms["title_indptr"] for s in segments]),
                         title_ids=_joined_ids([s.terms["title_ids"] for s in segments]),
                         idf=sentence_bm25.idf),
        doc_day=np.concatenate([s.days for s in segments]) if segments else np.zeros(0, dtype=np.int64),
        outlet_combinations=tuple(combinations),
        doc_outlet_group=np.concatenate(groups) if groups else np.zeros(0, dtype=np.int32),
        credit_counts=credits,
    )


def _joined_csr(indptrs: list[np.ndarray]) -> np.ndarray:
    parts, total = [np.zeros(1, dtype=np.int64)], 0
    for indptr in indptrs:
        parts.append(np.asarray(indptr[1:], dtype=np.int64) + total)
        total += int(indptr[-1])
    return np.concatenate(parts)


def _joined_ids(ids: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, dtype=np.int32)


def verify_index(index_dir: Path) -> dict[str, Any]:
    """Check the live version fully: pointer, manifests, every file's checksum (every segment's),
    counts, spans against the texts, loadability; and the files of the model exports beside it
    (`onnx_embedding.check_exports`, no torch).

    Returns {"index", "version", "ok", "problems": [...], "files": n, "bytes": n, "exports": [folder
    names], "seconds": s}; raises nothing for damage (it is listed), IndexUnavailable only when there
    is no index at all.
    """
    from assistant.index.onnx_embedding import check_exports

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
        report["exports"], export_problems = check_exports(index_dir)
        report["problems"] += [str(error), *export_problems]
        report["seconds"] = round(time.perf_counter() - started, 3)
        return report
    segment_problems, segment_records = check_segments(index_dir, manifest)
    report["problems"] += check_files(folder, manifest.files) + segment_problems
    records = list(manifest.files.values())
    for record in segment_records.values():
        records += list(segment_files(record).values())
    report["files"] = len(records) + len(manifest.segments)
    report["bytes"] = sum(record.get("bytes", 0) for record in records)
    if not report["problems"]:
        try:
            report["problems"] += _check_text_ends(load_index(index_dir, checksums=False))
        except IndexUnavailable as error:
            report["problems"].append(str(error))
    report["exports"], export_problems = check_exports(index_dir)
    report["problems"] += export_problems
    report["ok"] = not report["problems"]
    report["seconds"] = round(time.perf_counter() - started, 3)
    return report


def index_statistics(index_dir: Path) -> dict[str, Any]:
    """What the live index holds: counts, sources, dates, size on disk (reads every document once).

    `sources` counts documents per outlet (publisher or cited, names normalised by
    `ingest.outlets`); `publishers` counts them per (publisher, license), for credits.
    `updated` is when the live version was written; `feeds` the fetched sources behind it.
    """
    from assistant.ingest.feeds import feed_summary
    from assistant.ingest.outlets import corpus_credits, document_outlets

    index_dir = Path(index_dir)
    loaded = load_index(index_dir)
    manifest = loaded.manifest
    try:
        documents = list(loaded.documents)
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
    folders = [loaded.path] + [segment.folder for segment in loaded.segments]
    return {
        "index": str(index_dir),
        "version": loaded.path.name,
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
        "segments": len(loaded.segments),
        "vectors": {"chunks": loaded.chunk_index.kinds, "sentences": "float32 rows"},
        "published": {"first": dates[0] if dates else None, "last": dates[-1] if dates else None,
                      "undated": len(documents) - len(dates)},
        "bytes": sum(p.stat().st_size for folder in folders for p in folder.rglob("*") if p.is_file()),
        "created": manifest.created,
        "updated": manifest.created,
        "feeds": feed_summary(documents),
    }
