"""The index format: what a version folder holds, its manifest, and the text each row indexes.

Layout of an index folder:

    index/
      CURRENT            name of the live version folder (replaced atomically)
      .lock              held while a build runs
      segments/          immutable segments, one per publication month (`index/segments.py`),
                         shared by every version that lists them
      v-<time>-<pid>/    one version
        manifest.json    format, model (and the languages it covers), dimension, counts, splitter
                         version, the segments in order with the size and SHA-256 of each one's
                         segment.json, and its own files' checksums
        vocabulary.json  BM25 terms by id; ids only grow, so older segments' term ids stay valid

A build writes the segments whose documents changed and a new version folder listing every
segment, and only then points CURRENT at it, so a build killed at any moment leaves the
previous index usable; segments no version still lists are removed afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.records import CitedReport, Document

FORMAT_VERSION = 2
"""1: one folder per version (no segments); read no more: a build replaces it with a full build."""
POINTER = "CURRENT"
VERSION_PREFIX = "v-"
MAX_POINTER_BYTES = 256
"""CURRENT holds one folder name; anything longer is not a pointer this code wrote."""
VOCABULARY_FILE = "vocabulary.json"


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
    created: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per file of the version folder: {"bytes": size, "sha256": hex}."""
    splitter: str = ""
    """chunking.SPLITTER_VERSION at build time; when it differs, a build re-splits every document."""
    model_languages: str = ""
    """Languages the model covers ("en", "all", "en,fr"); "" (older indexes): known per model name."""
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The version's segments in order (month, then undated): name -> file record of its segment.json."""
    vocabulary_id: str = ""
    """Names the vocabulary lineage: segments written under another one have other term ids."""
    document_hashes: dict[str, str] = field(default_factory=dict)
    vectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Format 1 only (per-document hashes now live in each segment's ids.json, kinds in segment.json)."""


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


def valid_version_name(name: str) -> bool:
    """A version folder name as builds write it: `v-...`, one path part, no `..`, printable."""
    return (name.startswith(VERSION_PREFIX) and "/" not in name and "\\" not in name
            and ".." not in name and name.isprintable() and len(name) <= 200)


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


SPAN_ARRAYS = ("chunk_doc", "chunk_start", "chunk_end", "sentence_doc", "sentence_start",
               "sentence_end", "sentence_chunk")
