"""Term ids of every sentence and title, computed at build time and memory-mapped at load.

Ranking and presence features ask which of the question's BM25 terms a sentence
(its neighbours, its passage, its document's title) holds. The build stores the
term ids as CSR arrays (`indptr`, `ids`: sentence i holds `ids[indptr[i]:indptr[i + 1]]`,
in text order, repeats kept for bigrams), one set per segment under its `terms/`
folder (`index/segments.py`), in the version's vocabulary; a load joins them and takes
each term's IDF over all sentences from the BM25 postings, and a set is made only for
the rows a question looks at. `term_arrays` computes the same from token lists in one
go (the definition the tests compare a built index with).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

FOLDER = "terms"


@dataclass(frozen=True, kw_only=True)
class TermArrays:
    vocabulary: dict[str, int]
    sentence_indptr: np.ndarray
    sentence_ids: np.ndarray
    title_indptr: np.ndarray
    title_ids: np.ndarray
    idf: np.ndarray
    """ln(1 + (N - df + 0.5) / (df + 0.5)), df = sentences holding the term, N = sentences
    (BM25's IDF, Robertson & Zaragoza 2009); title-only terms have df 0."""


def term_arrays(sentence_tokens: Sequence[Sequence[str]], title_tokens: Sequence[Sequence[str]]) -> TermArrays:
    """CSR term ids of the sentences, then the titles (ids in order of first appearance)."""
    vocabulary: dict[str, int] = {}
    sentence_indptr, sentence_ids = csr_ids(sentence_tokens, vocabulary)
    sentence_terms = len(vocabulary)
    title_indptr, title_ids = csr_ids(title_tokens, vocabulary)
    rows = np.repeat(np.arange(len(sentence_indptr) - 1, dtype=np.int64), np.diff(sentence_indptr))
    distinct = np.unique(rows * max(sentence_terms, 1) + sentence_ids)
    frequency = np.bincount(distinct % max(sentence_terms, 1), minlength=len(vocabulary)).astype(np.float64)
    frequency[sentence_terms:] = 0.0
    total = max(len(sentence_indptr) - 1, 1)
    idf = np.log1p((total - frequency + 0.5) / (frequency + 0.5))
    return TermArrays(vocabulary=vocabulary, sentence_indptr=sentence_indptr, sentence_ids=sentence_ids,
                      title_indptr=title_indptr, title_ids=title_ids, idf=idf)


def csr_ids(token_lists: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, ids) of the token lists; a token not yet in `vocabulary` is added with the next id."""
    lengths = np.fromiter((len(tokens) for tokens in token_lists), dtype=np.int64, count=len(token_lists))
    indptr = np.zeros(len(token_lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    ids = np.fromiter((vocabulary.setdefault(token, len(vocabulary)) for tokens in token_lists for token in tokens),
                      dtype=np.int32, count=int(indptr[-1]))
    return indptr, ids


def computed_terms(sentence_texts: Sequence[str], titles: Sequence[str],
                   tokenize: Callable[[Sequence[str]], list[list[str]]]) -> TermArrays:
    """The same arrays from the texts, for an index stored without them."""
    return term_arrays(tokenize(list(sentence_texts)), tokenize(list(titles)))


class TermSets(Sequence[frozenset[int]]):
    """`sets[i]`: the distinct term ids of row i, made when asked for."""

    def __init__(self, indptr: np.ndarray, ids: np.ndarray) -> None:
        self.indptr = indptr
        self.ids = ids

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        return frozenset(self.ids[self.indptr[row]:self.indptr[row + 1]].tolist())


class BigramSets(TermSets):
    """`sets[i]`: the pairs of consecutive term ids of row i."""

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        ids = self.ids[self.indptr[row]:self.indptr[row + 1]].tolist()
        return frozenset(zip(ids, ids[1:]))
