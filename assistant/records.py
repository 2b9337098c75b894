"""The records that cross module boundaries: documents, chunks, sentences, quotes, answers.

Every record is a small frozen dataclass built with keyword arguments only, so a
reader can tell from a constructor call what each value is.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


@dataclass(frozen=True, kw_only=True)
class CitedReport:
    """A report a document cites: the outlet's name as the corpus gives it, and its link."""

    name: str
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Attribution:
    """Who wrote a text, where it can be read, whom it cites, and under what license.

    `publisher` wrote the words (a Wikipedia portal summarising the news, or the
    outlet itself); `publisher_url` is the page holding those words, the only page
    a text-fragment link may point at (None when unknown); `cites` are the reports
    the text is based on, linked plainly; `license` is as the corpus states it.
    """

    publisher: str
    publisher_url: str | None = None
    cites: tuple[CitedReport, ...] = ()
    license: str | None = None


@dataclass(frozen=True, kw_only=True)
class Document:
    """One article or item of reporting, exactly as loaded from the corpus.

    `text` is the canonical text: every chunk, sentence and quote is a slice of it.
    `published` is an ISO date (YYYY-MM-DD) or None when unknown.
    `origin` says where it was read from (a path, `path:line` for JSONL records).
    `metadata` keeps every other field of the input (front matter keys, JSON fields).
    `publisher` wrote the text (the source when the corpus names none);
    `publisher_url` is the page holding the text when the corpus names one (see
    `attribution` for the fallback to `url`); `cites` are the reports the text
    cites; `license` is as given, or None.
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
    publisher: str = ""
    publisher_url: str | None = None
    cites: tuple[CitedReport, ...] = ()
    license: str | None = None
    language: str | None = None

    @property
    def attribution(self) -> Attribution:
        """Publisher (falling back to the source), its page, cited reports and license.

        The page holding the text is `publisher_url`; failing that `url`, unless `url`
        is the link of a cited report (then the words are not on it and no page is known).
        """
        page = self.publisher_url
        if page is None and self.url and self.url not in {cite.url for cite in self.cites}:
            page = self.url
        return Attribution(publisher=self.publisher or self.source, publisher_url=page,
                           cites=self.cites, license=self.license)

    @property
    def content_hash(self) -> str:
        """SHA-256 over everything that is stored about the document except `origin`.

        A document is re-embedded when, and only when, this changes. The attribution
        fields join the hash only when they say more than the source and url do, so
        an index of plain documents built before they existed stays valid.
        """
        fields: list[Any] = [self.id, self.text, self.title, self.source, self.url, self.published,
                             self.author, self.metadata]
        if (self.publisher or self.source) != self.source or self.publisher_url or self.cites or self.license:
            fields.append([self.publisher, self.publisher_url,
                           [[cite.name, cite.url] for cite in self.cites], self.license])
        payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)
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
class SubCount:
    """A part of a casualty figure ("including four children"): never a total by itself.

    `low`/`high`/`vague` as in `Figure`; `who` is the people noun ("children") or None.
    `start`/`end` are offsets into the same text as the figure's.
    """

    low: int | None
    high: int | None
    vague: str | None = None
    who: str | None = None
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Figure:
    """A count of people in one casualty category, read from a quote (assistant/answers/figures.py).

    `category` is killed, injured, missing, displaced or detained. `low`/`high` are the
    bounds as reported ("at least 26": 26, None; "up to 10": None, 10; "18": 18, 18);
    `vague` keeps an amount given without a number ("dozens"; then both bounds are
    None). `start`/`end` are offsets into the quote text (not the document), so a UI
    can highlight the figure inside the quote. `includes` holds its sub-counts.
    """

    category: str
    low: int | None
    high: int | None
    vague: str | None = None
    start: int
    end: int
    includes: tuple[SubCount, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SourceRef:
    """A citable source: the outlet, the document and where to read it."""

    doc_id: str
    title: str
    source: str
    url: str | None
    published: str | None
    attribution: Attribution | None = None


@dataclass(frozen=True, kw_only=True)
class Quote:
    """A verbatim sentence of a stored document, with its provenance.

    `text == document.text[start:end]` always holds. `also_in` lists other
    documents carrying the same wording (near-duplicates merged into this quote).
    `marker` is the citation number shown as [marker]. `attribution` says who wrote
    the words and whom they cite (None: `source` wrote them, at `url`).
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
    attribution: Attribution | None = None
    event: dict[str, Any] | None = None
    """The coded event the document records (answers/coded_events.py); when event["coded"] is true
    the document is a data row (UCDP GED), shown as data and never as a quotation."""


class AnswerStatus(str, Enum):
    """Why an answer has quotes or not; each outcome has its own wording for the reader.

    ANSWERED: quotes that answer. NOT_IN_CORPUS: the reporting is not about the
    question (nearest passages are off-topic). DETAIL_MISSING: the reporting is about
    it but no sentence gives the detail asked for, or none from the period asked
    (nearest passages are about the topic). TOO_VAGUE: the question names nothing
    to look for ("Who is responsible?"); the reader is asked to be more specific.
    """

    ANSWERED = "answered"
    NOT_IN_CORPUS = "not_in_corpus"
    DETAIL_MISSING = "detail_missing"
    TOO_VAGUE = "too_vague"


class QuoteOrder(str, Enum):
    """How an answer's quotes are ordered: by relevance (the ranker's order), or by publication
    date, newest or oldest first (undated quotes last). The values are the API's `sort` parameter."""

    RELEVANCE = "relevance"
    NEWEST = "date"
    OLDEST = "date-asc"


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What a question gets back: quotes that answer it, or an honest abstention.

    When `answered` is False, `quotes` is empty and `nearest` may hold the closest
    passages, which must be labelled as not answering. `status` says which outcome
    (None reads as ANSWERED or NOT_IN_CORPUS, from `answered`; see `outcome`).
    """

    question: str
    answered: bool
    quotes: tuple[Quote, ...] = ()
    nearest: tuple[Quote, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    elapsed_ms: float = 0.0
    status: AnswerStatus | None = None
    page: int = 1
    """Which page of quotes this is ("More results"): page 2 holds the quotes after page 1's."""
    more: bool = False
    """Whether a further page has quotes that pass the same tests."""
    order: QuoteOrder = QuoteOrder.RELEVANCE

    @property
    def outcome(self) -> AnswerStatus:
        """`status`, or for records built without one, ANSWERED / NOT_IN_CORPUS from `answered`."""
        if self.status is not None:
            return self.status
        return AnswerStatus.ANSWERED if self.answered else AnswerStatus.NOT_IN_CORPUS
