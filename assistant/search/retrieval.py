"""Finding passages and candidate sentences: dense + BM25 scores, fused, filtered.

Pure computation over arrays prepared once from a loaded index (`prepare`):
every function takes a `SearchIndex` and query arrays and returns records.
Dense candidates come from the vector index's top k (`index/vectors.py`), with
the filters passed to it as an ID selector, so a filter never empties the list;
BM25 scores every row (one sparse pass) and adds its own top k. On an exact
(flat) index the candidate lists are deepened until the best `EXACT_TOP` fused
passages provably equal those of scoring every passage (`passage_candidates`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from assistant.index.terms import BigramSets, TermSets
from assistant.ingest.outlets import outlet_key, outlet_keys, outlets_of

DENSE_DEPTH = 256
"""Rows asked of each candidate list (dense and BM25) per query, before any deepening."""
EXACT_TOP = 20
"""On a flat index, the best this many fused passages are the exhaustive ones (evaluation reads
recall@20); deeper rows of `fuse` are exact only when they were candidates."""
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

    `chunk_vectors` / `sentence_vectors` are the loaded index's own rows (read by row from
    the segments' memory maps, never copied whole); `chunk_search` searches the chunks
    (`index.segments.SegmentedVectors`); `chunk_bm25` / `sentence_bm25` score BM25.
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
    chunk_search: Any
    chunk_bm25: Any
    sentence_bm25: Any
    chunk_sentences: Sequence[np.ndarray]
    sentence_terms: Sequence[frozenset[int]]
    sentence_bigrams: Sequence[frozenset[tuple[int, int]]]
    title_terms: Sequence[frozenset[int]]
    vocabulary: dict[str, int]
    term_idf: np.ndarray
    doc_day: np.ndarray
    outlets: tuple[str, ...]
    outlet_groups: tuple[frozenset[str], ...]
    """The distinct outlet-key sets; `doc_outlet_group[d]` is document d's (filters test each set once)."""
    doc_outlet_group: np.ndarray

    def sentence_text(self, row: int) -> str:
        document = self.documents[self.sentence_doc[row]]
        return document.text[self.sentence_start[row]:self.sentence_end[row]]


def prepare(loaded: Any) -> SearchIndex:
    """Everything retrieval needs from a `LoadedIndex`, computed once per load.

    Arrays the loaded index holds are used as they are (vectors, spans, stored term ids,
    publication days, outlet groups); each distinct outlet combination is normalised once
    (an archive repeats a few hundred). No document is read.
    """
    terms = loaded.terms
    shown = [outlets_of(publisher, source, cited) for publisher, source, cited in loaded.outlet_combinations]
    outlet_groups = tuple(frozenset(outlet_key(name) for name in names) for names in shown)
    doc_outlet_group = np.asarray(loaded.doc_outlet_group, dtype=np.int32)
    first_shown: dict[str, str] = {}
    for names in shown:
        for name in names:
            first_shown.setdefault(outlet_key(name), name)
    return SearchIndex(
        documents=loaded.documents,
        chunk_doc=loaded.chunk_doc, chunk_start=loaded.chunk_start, chunk_end=loaded.chunk_end,
        sentence_doc=loaded.sentence_doc, sentence_start=loaded.sentence_start,
        sentence_end=loaded.sentence_end, sentence_chunk=loaded.sentence_chunk,
        chunk_vectors=loaded.chunk_vectors(), sentence_vectors=loaded.sentence_vectors(),
        chunk_search=loaded.chunk_index,
        chunk_bm25=loaded.chunk_bm25, sentence_bm25=loaded.sentence_bm25,
        chunk_sentences=RowGroups(loaded.sentence_chunk, len(loaded.chunk_doc)),
        sentence_terms=TermSets(terms.sentence_indptr, terms.sentence_ids),
        sentence_bigrams=BigramSets(terms.sentence_indptr, terms.sentence_ids),
        title_terms=TermSets(terms.title_indptr, terms.title_ids),
        vocabulary=terms.vocabulary, term_idf=terms.idf, doc_day=np.asarray(loaded.doc_day, dtype=np.int64),
        outlets=tuple(sorted(first_shown.values(), key=str.casefold)),
        outlet_groups=outlet_groups, doc_outlet_group=doc_outlet_group,
    )


class RowGroups(Sequence[np.ndarray]):
    """`groups[i]`: the rows whose `keys` value is i (sentences of chunk i), ascending."""

    def __init__(self, keys: np.ndarray, count: int) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.bounds = np.searchsorted(np.asarray(keys)[self.order], np.arange(count + 1))

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __getitem__(self, group):  # type: ignore[override]
        if isinstance(group, slice):
            return [self[i] for i in range(*group.indices(len(self)))]
        return self.order[self.bounds[group]:self.bounds[group + 1]]


def document_mask(index: SearchIndex, filters: SearchFilters) -> np.ndarray:
    """Boolean per document: may it answer under `filters`?"""
    mask = np.ones(len(index.documents), dtype=bool)
    if filters.sources:
        wanted = outlet_keys(source for source in filters.sources if source.strip())
        matching = np.array([bool(outlets & wanted) for outlets in index.outlet_groups], dtype=bool)
        mask &= matching[index.doc_outlet_group]
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
    """Per-chunk scores for one query; `allowed` is False for filtered-out chunks and for
    chunks in neither candidate list (their `dense` is 0: not computed)."""

    dense: np.ndarray
    bm25: np.ndarray
    allowed: np.ndarray


def score_passages(index: SearchIndex, query_vector: np.ndarray, query_tokens: Sequence[str],
                   filters: SearchFilters = SearchFilters(), *,
                   also_documents: np.ndarray | None = None) -> PassageScores:
    """Candidate chunks for the query under `filters`, with their dense cosine; BM25 of every chunk.

    `also_documents` (boolean per document) adds the best candidates among those documents'
    chunks too (a date the question names), searched with that narrower selector.
    """
    count = len(index.chunk_doc)
    bm25 = bm25_scores(index.chunk_bm25, query_tokens, count)
    allowed = document_mask(index, filters)[index.chunk_doc]
    dense = np.zeros(count, dtype=np.float32)
    candidate = np.zeros(count, dtype=bool)
    masks = [allowed]
    if also_documents is not None and also_documents.any():
        masks.append(allowed & also_documents[index.chunk_doc])
    for mask in masks:
        rows, cosines = passage_candidates(index, query_vector, bm25, mask)
        dense[rows] = cosines
        candidate[rows] = True
    return PassageScores(dense=dense, bm25=bm25, allowed=allowed & candidate)


def passage_candidates(index: SearchIndex, query_vector: np.ndarray, bm25: np.ndarray, mask: np.ndarray,
                       *, need: int = EXACT_TOP, depth: int = DENSE_DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """(rows, exact cosines): the dense top `depth` and the BM25 top `depth` of the chunks in `mask`.

    On an exhaustive (flat) vector index the lists are deepened (x4) until the `need`-th best
    weighted fusion among the candidates beats what any other chunk could reach (the last dense
    score plus the last BM25 score of the lists, Fagin's threshold), so the top `need` equal
    those of scoring every chunk. An approximate index returns its short list as it is.
    """
    allowed_count = int(mask.sum())
    if allowed_count == 0 or len(query_vector) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    search = index.chunk_search
    best_bm25 = float(bm25.max()) if len(bm25) else 0.0
    weight = BM25_WEIGHT / best_bm25 if best_bm25 > 0 else BM25_WEIGHT
    selector = None if allowed_count == len(mask) else mask
    lexical_scores = np.where(mask, bm25, -np.inf)
    depth = max(depth, need)
    while True:
        dense_scores, dense_rows = search.search(query_vector, depth, selector)
        lexical_rows = top_rows(lexical_scores, depth)
        rows = np.union1d(dense_rows, lexical_rows)
        cosines = np.asarray(index.chunk_vectors[rows] @ query_vector, dtype=np.float32)
        if not search.exhaustive or len(dense_rows) >= allowed_count or len(lexical_rows) >= allowed_count:
            return rows, cosines
        fused = DENSE_WEIGHT * cosines.astype(np.float64) + weight * bm25[rows]
        reachable = DENSE_WEIGHT * float(dense_scores[-1]) + weight * float(bm25[lexical_rows[-1]])
        if len(fused) >= need and np.partition(fused, len(fused) - need)[len(fused) - need] > reachable:
            return rows, cosines
        depth *= 4


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
    """Rows of the `k` highest finite scores, best first; equal scores in row order (deterministic).

    When at least `k` scores are positive (BM25 over an archive: a few thousand rows of a
    million), only those are ranked: the result is the same, without partitioning every row.
    """
    positive = np.flatnonzero(scores > 0)
    finite = positive if len(positive) >= k else np.flatnonzero(np.isfinite(scores))
    if len(finite) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(finite) > k:
        kth_best = np.partition(scores[finite], len(finite) - k)[len(finite) - k]
        finite = finite[scores[finite] >= kth_best]
    return finite[np.lexsort((finite, -scores[finite]))][:k]


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
