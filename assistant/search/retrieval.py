"""Finding passages and candidate sentences: dense + BM25 scores, fused, filtered.

Pure computation over arrays prepared once from a loaded index (`prepare`):
every function takes a `SearchIndex` and query arrays and returns records. The
corpora this serves hold up to some hundred thousand spans, so scores are
computed exhaustively (one matrix-vector product, one sparse BM25 pass); that
keeps filters exact, with no top-k cut that a filter could empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from assistant.ingest.outlets import document_outlets, outlet_choices, outlet_key, outlet_keys

RRF_K = 60
"""Reciprocal rank fusion constant (Cormack, Clarke & Buettcher 2009, k=60)."""
DENSE_WEIGHT = 1.0
BM25_WEIGHT = 0.5
"""Weighted fusion: dense cosine + BM25_WEIGHT * BM25 / best BM25 of the query.

Chosen on the even-numbered articles of SQuAD v1.1 dev (bench/eval_fit.py), passage
recall@1 / @5 for BM25 weights 0.2, 0.35, 0.5, 0.75, 1.0: 0.757/0.946, 0.783/0.955,
0.788/0.958, 0.790/0.956, 0.788/0.953; RRF 0.719/0.932. On the odd half 0.5 gives
0.836/0.965 against RRF's 0.767/0.945.
"""


class FusionMethod(Enum):
    """How dense and BM25 scores become one ranking."""

    WEIGHTED = "weighted"
    RRF = "rrf"
    DENSE = "dense"
    BM25 = "bm25"


@dataclass(frozen=True, kw_only=True)
class SearchFilters:
    """Which documents may answer: outlets (any of) and a published-date window.

    A source filter matches the document's publisher or any outlet it cites or
    names in `source`, names compared as `ingest.outlets` normalises them
    ("france24" finds "France 24", "Al Arabiya" finds "AFP via Al-Arabiya"). Documents without a date
    are excluded as soon as `since` or `until` is given.
    """

    sources: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    countries: tuple[str, ...] = ()
    event_since: dt.date | None = None
    event_until: dt.date | None = None
    """Country and event-date window: see `search/event_filters.py`."""


@dataclass(frozen=True, kw_only=True)
class SearchIndex:
    """The arrays retrieval and ranking need, derived once from a `LoadedIndex`.

    `sentence_terms[i]` is the set of BM25 term ids of sentence i and
    `sentence_bigrams[i]` its pairs of consecutive terms; `term_idf`
    their inverse document frequency over sentences; `doc_day` the published
    date as an ordinal day (-1 when unknown).
    """

    documents: tuple[Any, ...]
    chunk_doc: np.ndarray
    chunk_start: np.ndarray
    chunk_end: np.ndarray
    sentence_doc: np.ndarray
    sentence_start: np.ndarray
    sentence_end: np.ndarray
    sentence_chunk: np.ndarray
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    chunk_bm25: Any
    sentence_bm25: Any
    chunk_sentences: tuple[np.ndarray, ...]
    sentence_terms: tuple[frozenset[int], ...]
    sentence_bigrams: tuple[frozenset[tuple[int, int]], ...]
    title_terms: tuple[frozenset[int], ...]
    vocabulary: dict[str, int]
    term_idf: np.ndarray
    doc_day: np.ndarray
    doc_outlets: tuple[frozenset[str], ...]
    outlets: tuple[str, ...]

    def sentence_text(self, row: int) -> str:
        document = self.documents[self.sentence_doc[row]]
        return document.text[self.sentence_start[row]:self.sentence_end[row]]


def prepare(loaded: Any, tokenize: Any) -> SearchIndex:
    """Everything retrieval needs from a `LoadedIndex`, computed once per load.

    `tokenize` is `index.bm25_tokens`, so sentence terms match the BM25 index.
    """
    documents = loaded.documents
    sentence_texts = [loaded.sentence_text(row) for row in range(len(loaded.sentence_doc))]
    vocabulary: dict[str, int] = {}
    sentence_ids = [[vocabulary.setdefault(token, len(vocabulary)) for token in tokens]
                    for tokens in tokenize(sentence_texts)]
    sentence_terms = tuple(frozenset(ids) for ids in sentence_ids)
    sentence_bigrams = tuple(frozenset(zip(ids, ids[1:])) for ids in sentence_ids)
    title_terms = tuple(
        frozenset(vocabulary.setdefault(token, len(vocabulary)) for token in tokens)
        for tokens in tokenize([document.title for document in documents])
    )
    document_frequency = np.zeros(len(vocabulary), dtype=np.float64)
    for terms in sentence_terms:
        document_frequency[list(terms)] += 1
    total = max(len(sentence_terms), 1)
    term_idf = np.log1p((total - document_frequency + 0.5) / (document_frequency + 0.5))
    order = np.argsort(loaded.sentence_chunk, kind="stable")
    bounds = np.searchsorted(loaded.sentence_chunk[order], np.arange(len(loaded.chunk_doc) + 1))
    chunk_sentences = tuple(order[bounds[i]:bounds[i + 1]] for i in range(len(loaded.chunk_doc)))
    doc_day = np.array([
        dt.date.fromisoformat(document.published).toordinal() if _is_iso(document.published) else -1
        for document in documents
    ], dtype=np.int64)
    doc_outlets = tuple(frozenset(outlet_key(o) for o in document_outlets(d)) for d in documents)
    return SearchIndex(
        documents=documents,
        chunk_doc=loaded.chunk_doc, chunk_start=loaded.chunk_start, chunk_end=loaded.chunk_end,
        sentence_doc=loaded.sentence_doc, sentence_start=loaded.sentence_start,
        sentence_end=loaded.sentence_end, sentence_chunk=loaded.sentence_chunk,
        chunk_vectors=loaded.chunk_vectors(), sentence_vectors=loaded.sentence_vectors(),
        chunk_bm25=loaded.chunk_bm25, sentence_bm25=loaded.sentence_bm25,
        chunk_sentences=chunk_sentences, sentence_terms=sentence_terms,
        sentence_bigrams=sentence_bigrams, title_terms=title_terms,
        vocabulary=vocabulary, term_idf=term_idf, doc_day=doc_day, doc_outlets=doc_outlets,
        outlets=outlet_choices(documents),
    )


def _is_iso(value: str | None) -> bool:
    try:
        dt.date.fromisoformat(value or "")
    except ValueError:
        return False
    return True


def document_mask(index: SearchIndex, filters: SearchFilters) -> np.ndarray:
    """Boolean per document: may it answer under `filters`?"""
    mask = np.ones(len(index.documents), dtype=bool)
    if filters.sources:
        wanted = outlet_keys(source for source in filters.sources if source.strip())
        mask &= np.array([bool(outlets & wanted) for outlets in index.doc_outlets], dtype=bool)
    if filters.since is not None:
        mask &= index.doc_day >= filters.since.toordinal()
    if filters.until is not None:
        mask &= (index.doc_day >= 0) & (index.doc_day <= filters.until.toordinal())
    if filters.countries or filters.event_since is not None or filters.event_until is not None:
        from assistant.search.event_filters import event_mask

        mask &= event_mask(index.documents, countries=filters.countries,
                           event_since=filters.event_since, event_until=filters.event_until)
    return mask


def bm25_scores(retriever: Any, query_tokens: Sequence[str], size: int) -> np.ndarray:
    """BM25 score of every row for the query; zeros when no query term is indexed."""
    known = [token for token in query_tokens if token in retriever.vocab_dict]
    if not known or size == 0:
        return np.zeros(size, dtype=np.float32)
    return np.asarray(retriever.get_scores(known), dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class PassageScores:
    """Per-chunk scores for one query; `allowed` is False for filtered-out chunks."""

    dense: np.ndarray
    bm25: np.ndarray
    allowed: np.ndarray


def score_passages(index: SearchIndex, query_vector: np.ndarray, query_tokens: Sequence[str],
                   filters: SearchFilters = SearchFilters()) -> PassageScores:
    """Dense cosine and BM25 for every chunk, and which chunks the filters allow."""
    dense = index.chunk_vectors @ query_vector if len(index.chunk_vectors) else np.zeros(0, np.float32)
    bm25 = bm25_scores(index.chunk_bm25, query_tokens, len(index.chunk_doc))
    allowed = document_mask(index, filters)[index.chunk_doc]
    return PassageScores(dense=dense.astype(np.float32), bm25=bm25, allowed=allowed)


def _ranks(values: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(1, len(values) + 1)
    return ranks


def fuse(scores: PassageScores, method: FusionMethod = FusionMethod.WEIGHTED) -> np.ndarray:
    """One relevance score per chunk (higher is better); filtered chunks get -inf.

    WEIGHTED: `DENSE_WEIGHT` * cosine + `BM25_WEIGHT` * BM25 / the query's best
    BM25. RRF: sum of 1 / (`RRF_K` + rank) over the two rankings.
    """
    if method is FusionMethod.DENSE:
        fused = scores.dense.astype(np.float64)
    elif method is FusionMethod.BM25:
        fused = scores.bm25.astype(np.float64)
    elif method is FusionMethod.RRF:
        fused = 1.0 / (RRF_K + _ranks(scores.dense)) + 1.0 / (RRF_K + _ranks(scores.bm25))
    else:
        best = float(scores.bm25.max()) if len(scores.bm25) else 0.0
        relative = scores.bm25 / best if best > 0 else scores.bm25
        fused = DENSE_WEIGHT * scores.dense.astype(np.float64) + BM25_WEIGHT * relative
    return np.where(scores.allowed, fused, -np.inf)


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the `k` highest finite scores, best first."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(finite) > k:
        finite = finite[np.argpartition(-scores[finite], k - 1)[:k]]
    return finite[np.argsort(-scores[finite], kind="stable")]


def date_matches(index: SearchIndex, ranges: Sequence[tuple[dt.date, dt.date]]) -> np.ndarray:
    """Boolean per document: published within any of the (start, end) ranges."""
    inside = np.zeros(len(index.documents), dtype=bool)
    for start, end in ranges:
        inside |= (index.doc_day >= start.toordinal()) & (index.doc_day <= end.toordinal())
    return inside


def query_terms(index: SearchIndex, query_tokens: Sequence[str]) -> tuple[int, ...]:
    """The query's distinct BM25 terms that occur in the index, as term ids."""
    return tuple(dict.fromkeys(index.vocabulary[t] for t in query_tokens if t in index.vocabulary))


def query_bigrams(index: SearchIndex, query_tokens: Sequence[str]) -> frozenset[tuple[int, int]]:
    """Pairs of consecutive query terms (stopwords already removed), as term-id pairs."""
    ids = [index.vocabulary.get(token, -1) for token in query_tokens]
    return frozenset((a, b) for a, b in zip(ids, ids[1:]) if a >= 0 and b >= 0)
