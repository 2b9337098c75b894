"""The records that cross module boundaries: documents, chunks, sentences, quotes, answers.

Every record is a small frozen dataclass built with keyword arguments only, so a
reader can tell from a constructor call what each value is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Document:
    """One article or item of reporting, exactly as loaded from the corpus.

    `text` is the canonical text: every chunk, sentence and quote is a slice of it.
    `published` is an ISO date (YYYY-MM-DD) or None when unknown.
    `origin` says where it was read from (a path, `path:line` for JSONL records).
    `metadata` keeps every other field of the input (front matter keys, JSON fields).
    `language` is an ISO 639 code ("en", "uk", "ar"), detected at load (ingest/languages.py).
    """

    id: str
    text: str
    title: str
    source: str
    url: str | None = None
    published: str | None = None
    author: str | None = None
    origin: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    language: str | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 over everything that is stored about the document except `origin`.

        A document is re-embedded when, and only when, this changes.
        """
        payload = json.dumps(
            [self.id, self.text, self.title, self.source, self.url, self.published,
             self.author, self.metadata],
            ensure_ascii=False, sort_keys=True, default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Problem:
    """A piece of input that could not be used; printed as `file:line: reason`."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


@dataclass(frozen=True, kw_only=True)
class Span:
    """A character range [start, end) into a document's text."""

    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Figure:
    """A number next to a casualty word inside a quote, e.g. "18" + "killed".

    `start`/`end` are offsets into the quote text (not the document), so a UI can
    highlight the figure inside the quote.
    """

    value: str
    category: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class SourceRef:
    """A citable source: the outlet, the document and where to read it."""

    doc_id: str
    title: str
    source: str
    url: str | None
    published: str | None


@dataclass(frozen=True, kw_only=True)
class Quote:
    """A verbatim sentence of a stored document, with its provenance.

    `text == document.text[start:end]` always holds. `also_in` lists other
    documents carrying the same wording (near-duplicates merged into this quote).
    `marker` is the citation number shown as [marker].
    """

    text: str
    doc_id: str
    title: str
    source: str
    url: str | None
    published: str | None
    start: int
    end: int
    score: float
    context_before: str = ""
    context_after: str = ""
    figures: tuple[Figure, ...] = ()
    also_in: tuple[SourceRef, ...] = ()
    marker: int = 0
    language: str | None = None


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What a question gets back: quotes that answer it, or an honest abstention.

    When `answered` is False, `quotes` is empty and `nearest` may hold the closest
    passages, which must be labelled as not answering.
    """

    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    nearest: tuple[Quote, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    elapsed_ms: float = 0.0
