"""Term ids of every sentence and title, computed at build time and memory-mapped at load.

Ranking and presence features ask which of the question's BM25 terms a sentence
(its neighbours, its passage, its document's title) holds. Loading used to
re-tokenise every sentence and build a Python set per sentence; the build now
stores the term ids as CSR arrays (`indptr`, `ids`: sentence i holds
`ids[indptr[i]:indptr[i + 1]]`, in text order, repeats kept for bigrams) with
the vocabulary and each term's IDF over sentences, and a set is made only for
the rows a question looks at.

Stored under `terms/` in a version folder: `vocabulary.json` (terms by id),
`sentence_indptr.npy`, `sentence_ids.npy`, `title_indptr.npy`, `title_ids.npy`
(one title per document), `idf.npy`. Indexes written before have no `terms/`:
their arrays are computed at load from the texts, as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    sentence_indptr, sentence_ids = _csr(sentence_tokens, vocabulary)
    sentence_terms = len(vocabulary)
    title_indptr, title_ids = _csr(title_tokens, vocabulary)
    rows = np.repeat(np.arange(len(sentence_indptr) - 1, dtype=np.int64), np.diff(sentence_indptr))
    distinct = np.unique(rows * max(sentence_terms, 1) + sentence_ids)
    frequency = np.bincount(distinct % max(sentence_terms, 1), minlength=len(vocabulary)).astype(np.float64)
    frequency[sentence_terms:] = 0.0
    total = max(len(sentence_indptr) - 1, 1)
    idf = np.log1p((total - frequency + 0.5) / (frequency + 0.5))
    return TermArrays(vocabulary=vocabulary, sentence_indptr=sentence_indptr, sentence_ids=sentence_ids,
                      title_indptr=title_indptr, title_ids=title_ids, idf=idf)


def _csr(token_lists: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(tokens) for tokens in token_lists), dtype=np.int64, count=len(token_lists))
    indptr = np.zeros(len(token_lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    ids = np.fromiter((vocabulary.setdefault(token, len(vocabulary)) for tokens in token_lists for token in tokens),
                      dtype=np.int32, count=int(indptr[-1]))
    return indptr, ids


def save_terms(folder: Path, arrays: TermArrays) -> None:
    target = Path(folder) / FOLDER
    target.mkdir()
    (target / "vocabulary.json").write_text(json.dumps(list(arrays.vocabulary), ensure_ascii=False), encoding="utf-8")
    for name in ("sentence_indptr", "sentence_ids", "title_indptr", "title_ids", "idf"):
        np.save(target / f"{name}.npy", getattr(arrays, name))


def load_terms(folder: Path) -> TermArrays | None:
    """The stored arrays, memory-mapped; None when the version has none (older indexes).

    Each array is a plain ndarray view of its memory map: the same pages, without numpy.memmap's
    per-indexing overhead (a question reads thousands of single entries; at 300k documents that
    overhead was a third of the ranking time).
    """
    source = Path(folder) / FOLDER
    if not source.is_dir():
        return None
    words = json.loads((source / "vocabulary.json").read_text(encoding="utf-8"))
    arrays = {name: np.load(source / f"{name}.npy", mmap_mode="r").view(np.ndarray)
              for name in ("sentence_indptr", "sentence_ids", "title_indptr", "title_ids", "idf")}
    return TermArrays(vocabulary={word: number for number, word in enumerate(words)}, **arrays)


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
