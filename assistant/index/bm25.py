"""BM25 over term postings stored per segment, with statistics over the whole index.

Each segment stores, for its rows (chunks or sentences), an inverted list per term: the
rows holding it and how often (`Postings`). A question reads only the lists of its own
terms, in every segment, so nothing is recomputed at load and no row without a query term
is touched. Document frequencies and lengths are summed over all segments at load, so a
score is the one a single index over every row would give: the Lucene variant that bm25s
computes (Kamphuis et al. 2020; the same k1, b and idf), checked against bm25s in
tests/test_bm25.py. bm25s still tokenises (stopwords, Snowball stemming): its scoring needs
one index over every row, which a segment rewritten alone cannot update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75
"""bm25s's defaults, with which every earlier index was built and the ranker fitted."""
NAMES = ("indptr", "rows", "tf", "lengths")


@dataclass(frozen=True, kw_only=True)
class Postings:
    """One segment's inverted lists: rows `rows[indptr[t]:indptr[t + 1]]` hold term t,
    `tf` times each; `lengths[r]` is row r's token count. Terms past `len(indptr) - 1`
    were added to the vocabulary after the segment was written (none of its rows hold them)."""

    indptr: np.ndarray
    rows: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray

    @property
    def row_count(self) -> int:
        return len(self.lengths)

    def document_frequency(self, vocabulary_size: int) -> np.ndarray:
        """Rows holding each term, padded to `vocabulary_size`."""
        counts = np.diff(self.indptr)
        return np.pad(counts, (0, max(0, vocabulary_size - len(counts))))[:vocabulary_size]


def postings(indptr: np.ndarray, ids: np.ndarray, vocabulary_size: int) -> Postings:
    """Inverted lists from CSR term ids (row r's tokens are `ids[indptr[r]:indptr[r + 1]]`)."""
    lengths = np.diff(indptr).astype(np.int32)
    rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    pairs, tf = np.unique(ids.astype(np.int64) * max(len(lengths), 1) + rows, return_counts=True)
    terms = pairs // max(len(lengths), 1)
    term_indptr = np.zeros(vocabulary_size + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=vocabulary_size), out=term_indptr[1:])
    return Postings(indptr=term_indptr, rows=(pairs % max(len(lengths), 1)).astype(np.int32),
                    tf=tf.astype(np.float32), lengths=lengths)


def save_postings(folder: Path, name: str, stored: Postings) -> None:
    for part in NAMES:
        np.save(Path(folder) / f"{name}_{part}.npy", getattr(stored, part))


def load_postings(folder: Path, name: str) -> Postings:
    """Memory-mapped (plain ndarray views of the maps: no per-index overhead)."""
    return Postings(**{part: np.load(Path(folder) / f"{name}_{part}.npy", mmap_mode="r").view(np.ndarray)
                       for part in NAMES})


def stored_files(name: str) -> tuple[str, ...]:
    return tuple(f"{name}_{part}.npy" for part in NAMES)


class SegmentedBM25:
    """BM25 of every row of the index for a query, from the segments' postings.

    Offers what retrieval reads of a bm25s index: `vocab_dict` and `get_scores(tokens)`
    (one score per row, rows of all segments in order; a repeated query token counts again,
    as in bm25s).
    """

    def __init__(self, vocabulary: Mapping[str, int], parts: Sequence[Postings]) -> None:
        self.vocab_dict = vocabulary
        self.parts = tuple(parts)
        sizes = [part.row_count for part in self.parts]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.count = int(self.offsets[-1])
        total_length = sum(float(part.lengths.sum()) for part in self.parts)
        average = total_length / self.count if self.count else 1.0
        frequency = np.zeros(len(vocabulary), dtype=np.float64)
        for part in self.parts:
            frequency += part.document_frequency(len(vocabulary))
        self.idf = np.log1p((self.count - frequency + 0.5) / (frequency + 0.5))
        # The length part of each row's denominator, once per load (a float per row of the index).
        self._norm = (K1 * ((1 - B) + B * np.concatenate([part.lengths for part in self.parts] or [np.zeros(0)])
                            / max(average, 1e-9))).astype(np.float32)

    def get_scores(self, tokens: Sequence[str]) -> np.ndarray:
        terms = [self.vocab_dict[token] for token in tokens if token in self.vocab_dict]
        if not terms or not self.count:
            return np.zeros(self.count, dtype=np.float32)
        # Gather every segment's inverted list of every query term, then score them all at once.
        rows, tf, weights, shifts = [], [], [], []
        for part, offset in zip(self.parts, self.offsets[:-1].tolist()):
            listed = len(part.indptr) - 1
            for term in terms:
                if term >= listed:
                    continue
                start, end = part.indptr[term], part.indptr[term + 1]
                if start == end:
                    continue
                rows.append(part.rows[start:end])
                tf.append(part.tf[start:end])
                weights.append((self.idf[term], end - start))
                shifts.append((offset, end - start))
        if not rows:
            return np.zeros(self.count, dtype=np.float32)
        lengths = np.fromiter((n for _, n in shifts), dtype=np.int64, count=len(shifts))
        where = np.concatenate(rows).astype(np.int64) + np.repeat(
            np.fromiter((o for o, _ in shifts), dtype=np.int64, count=len(shifts)), lengths)
        frequency = np.concatenate(tf).astype(np.float64)
        idf = np.repeat(np.fromiter((w for w, _ in weights), dtype=np.float64, count=len(weights)), lengths)
        contribution = idf * frequency / (self._norm[where] + frequency)
        return np.bincount(where, weights=contribution, minlength=self.count).astype(np.float32)

    def row_scores(self, tokens: Sequence[str], rows: np.ndarray, indptr: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """`get_scores(tokens)[rows]`, computed from the rows' own term ids (CSR `indptr`, `ids` over
        every row, in the vocabulary's ids) instead of every row's postings: for a few hundred
        candidate sentences out of a million."""
        terms = [self.vocab_dict[token] for token in tokens if token in self.vocab_dict]
        rows = np.asarray(rows, dtype=np.int64)
        scores = np.zeros(len(rows), dtype=np.float64)
        if not terms or not len(rows):
            return scores.astype(np.float32)
        starts, ends = indptr[rows], indptr[rows + 1]
        norm = self._norm[rows].astype(np.float64)  # the rows' length part, as `get_scores` uses it
        counts = ends - starts
        owner = np.repeat(np.arange(len(rows)), counts)
        # Positions of every row's ids, one after the other: start of the row + offset within it.
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        held = ids[np.repeat(starts, counts) + offsets]
        for term in terms:
            tf = np.bincount(owner[held == term], minlength=len(rows)).astype(np.float64)
            scores += np.where(tf > 0, self.idf[term] * tf / (norm + tf), 0.0)
        return scores.astype(np.float32)
