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
    FORMAT_VERSION, MAX_POINTER_BYTES, POINTER, SPAN_ARRAYS, VERSION_PREFIX, IndexUnavailable, Manifest,
    bm25_tokens, chunk_embedding_input, document_from_record, file_record, title_prefix, valid_version_name,
)
from assistant.index.terms import TermArrays, load_terms
from assistant.index.vectors import VectorIndex, VectorSpec
from assistant.records import Document


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
    chunk_index: VectorIndex
    sentence_index: VectorIndex
    chunk_bm25: Any
    sentence_bm25: Any
    terms: TermArrays | None = None
    """Term ids per sentence and title (memory-mapped); None for indexes stored without them."""

    def chunk_text(self, row: int) -> str:
        return self.documents[self.chunk_doc[row]].text[self.chunk_start[row]:self.chunk_end[row]]

    def sentence_text(self, row: int) -> str:
        return self.documents[self.sentence_doc[row]].text[self.sentence_start[row]:self.sentence_end[row]]

    def chunk_vectors(self) -> np.ndarray:
        """The stored chunk vectors as an (n, dimension) float32 array."""
        return self.chunk_index.vectors

    def sentence_vectors(self) -> np.ndarray:
        """The stored sentence vectors as an (n, dimension) float32 array."""
        return self.sentence_index.vectors


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


def vector_spec(manifest: Manifest, name: str) -> VectorSpec:
    """The stored kind of vector index `name` ("chunks", "sentences"); flat for older indexes."""
    return VectorSpec(**manifest.vectors[name]) if name in manifest.vectors else VectorSpec()


LOAD_CHECKSUM_MAX_BYTES = 32 * 2**20
"""At load, a bulk numeric file (`BULK_SUFFIXES`: vectors, FAISS codes, term ids) larger than
this is checked by size only, so a large archive loads without reading every byte of its
memory-mapped arrays; `verify` checks every checksum. Documents, spans and the manifest
(the quoted words, their offsets and bylines) are always checked in full."""
BULK_SUFFIXES = (".faiss", ".npy")


def check_files(folder: Path, manifest: Manifest, *, checksums: bool = True,
                bulk_limit: int | None = None) -> list[str]:
    """What does not match the manifest's file records: missing files, sizes, checksums
    (`checksums=False` compares sizes only; with `bulk_limit`, bulk files over that many bytes too)."""
    problems = []
    for name, expected in manifest.files.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        size = path.stat().st_size
        if size != expected.get("bytes"):
            problems.append(f"{name} has {size:,} bytes, the manifest says {expected.get('bytes')}")
        elif (checksums and not (bulk_limit is not None and size > bulk_limit and name.endswith(BULK_SUFFIXES))
              and file_record(path)["sha256"] != expected.get("sha256")):
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
        if vectors[kind].count != expected[kind]:
            problems.append(f"{kind}s.faiss holds {vectors[kind].count:,} vectors, the manifest says {expected[kind]:,}")
        if vectors[kind].dimension != manifest.dimension:
            problems.append(f"{kind}s.faiss has dimension {vectors[kind].dimension}, the manifest says {manifest.dimension}")
    problems += _check_terms(index.terms, manifest)
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


def _check_terms(terms: TermArrays | None, manifest: Manifest) -> list[str]:
    if terms is None:
        return []
    for name, indptr, ids, rows in (("sentence", terms.sentence_indptr, terms.sentence_ids, manifest.sentences),
                                    ("title", terms.title_indptr, terms.title_ids, manifest.documents)):
        if len(indptr) != rows + 1 or indptr[0] != 0 or indptr[-1] != len(ids) or np.any(np.diff(indptr) < 0):
            return [f"terms/{name}_indptr does not match the manifest's {rows:,} rows"]
        if len(ids) and (ids.min() < 0 or ids.max() >= len(terms.vocabulary)):
            return [f"terms/{name}_ids are out of the vocabulary's range"]
    if len(terms.idf) != len(terms.vocabulary):
        return ["terms/idf does not match the vocabulary"]
    return []


def load_index(index_dir: Path, *, checksums: bool = True) -> LoadedIndex:
    """Load the live version of the index in `index_dir`, or raise IndexUnavailable.

    Every load checks the stored files' sizes and (with `checksums`, the default)
    SHA-256 against the manifest (bulk arrays over `LOAD_CHECKSUM_MAX_BYTES`: size only), and the row counts of documents, spans and
    vectors against the manifest and each other, so a damaged or partial version
    is refused with one line instead of answering wrongly. On the 3,276-document
    conflict-news index (17.4 MB) a warm load took 346 ms with checksums, 286 ms
    without (load average 20 on 2 cores); `verify` checks the same and more.
    """
    import bm25s

    index_dir = Path(index_dir)
    # CURRENT is read once, so a build switching it meanwhile cannot mix two versions.
    folder = live_folder(index_dir)
    manifest = read_manifest(index_dir, folder)
    problems = check_files(folder, manifest, checksums=checksums, bulk_limit=LOAD_CHECKSUM_MAX_BYTES)
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
            chunk_index=VectorIndex.load(folder, "chunks", vector_spec(manifest, "chunks")),
            sentence_index=VectorIndex.load(folder, "sentences", vector_spec(manifest, "sentences")),
            chunk_bm25=bm25s.BM25.load(str(folder / "bm25_chunks"), mmap=True),
            sentence_bm25=bm25s.BM25.load(str(folder / "bm25_sentences"), mmap=True),
            terms=load_terms(folder),
        )
    except Exception as error:  # noqa: BLE001 - any damage to stored files is one line, never a crash
        raise _damaged(index_dir, f"{type(error).__name__}: {error}") from error
    problems = check_counts(loaded)
    if problems:
        raise _damaged(index_dir, problems[0])
    return loaded



def verify_index(index_dir: Path) -> dict[str, Any]:
    """Check the live version fully: pointer, manifest, every file's checksum, counts, loadability;
    and the files of the model exports beside it (`onnx_embedding.check_exports`, no torch).

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
    report["exports"], export_problems = check_exports(index_dir)
    report["problems"] += export_problems
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
        "vectors": {name: vector_spec(manifest, name).factory for name in ("chunks", "sentences")},
        "published": {"first": dates[0] if dates else None, "last": dates[-1] if dates else None,
                      "undated": len(documents) - len(dates)},
        "bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        "created": manifest.created,
        "updated": manifest.created,
        "feeds": feed_summary(documents),
    }
