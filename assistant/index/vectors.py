"""Vector search behind one small interface: top-k by inner product, optionally among some rows only.

Retrieval and ranking see a `VectorIndex` (search, add, remove, save, load, and
the exact stored vectors); which FAISS kind holds the vectors is chosen here, by
size, and recorded in the manifest (`VectorSpec`), so a reader knows what it loads:

- up to `FLAT_MAX_ROWS` rows: `IndexFlatIP`, exact. Its stored rows are read
  through a view of FAISS's own buffer, never copied.
- more: IVF with 4-bit PQ fast-scan (factory `IVF{nlist},PQ{m}x4fs`, inner
  product), which scans compressed codes for a short list of `rerank` rows; the
  short list is then re-scored exactly against the float32 vectors kept beside it
  (`<name>.vectors.npy`, memory-mapped: a query touches only the rows it re-scores).

A filter is a boolean mask over rows. It is passed to FAISS as an ID selector
(`IDSelectorBitmap` in `SearchParameters`), so no disallowed row is ever
returned; a filter allowing at most `EXACT_FILTER_ROWS` rows is searched exactly
over those rows instead, because the IVF probes could miss a small allowed set.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

FLAT_MAX_ROWS = 50_000
"""Above this many rows an index is IVF-PQ. A flat index holds and scans every row per query
(50,000 x 384 float32 is 77 MB; a million rows 1.5 GB); IVF-PQ scans nprobe/nlist of 48-byte codes."""
EXACT_FILTER_ROWS = 20_000
"""A filter allowing at most this many rows is answered by an exact scan of those rows."""
RERANK_ROWS = 1024
"""Rows of the compressed short list re-scored exactly (at least k). 4-bit PQ codes order rows
coarsely: on 60,000 clustered 32-d rows (tests/test_vectors.py) recall@20 was 0.89 re-scoring
256 rows and 0.98 re-scoring 1,024, at any nprobe from 32 to 128."""
NPROBE_SHARE = 3 / 8
"""Share of the inverted lists an IVF search scans (at least 16 lists). Chosen with
bench/ivf_recall.py on the 100,000-document archive of bench/scale.py (200 SQuAD questions,
sample seed 1, re-rank 1,024), chunk recall@20: nlist/4 0.932, 3/8 0.964, nlist/2 0.980; the
cheapest share reaching 0.95. Reported on the 300,000-document archive (200 other questions,
seed 2): chunks 0.947 -> 0.972, sentences 0.995 -> 1.000. Indexes built when the share was
nlist/4 are searched with this one too (`VectorIndex.nprobe`), without a rebuild."""
TRAIN_ROWS_PER_LIST = 40
"""k-means trains on this many sampled rows per inverted list (FAISS warns below 39)."""


@dataclass(frozen=True, kw_only=True)
class VectorSpec:
    """How one vector index is stored: recorded per index in the manifest (`vectors`)."""

    kind: str = "flat"
    """"flat" or "ivfpq"."""
    factory: str = "Flat"
    """The faiss.index_factory string (metric: inner product)."""
    nprobe: int = 0
    """Inverted lists scanned per query (IVF only), as chosen at build; a search scans at least
    `default_nprobe` (`VectorIndex.nprobe`)."""
    rerank: int = 0
    """Short-list length re-scored exactly (IVF only)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def choose_spec(rows: int, dimension: int) -> VectorSpec:
    """Flat up to `FLAT_MAX_ROWS`, else IVF-PQ fast-scan with nlist = 2 * sqrt(rows) lists (a power of
    two, 64 to 4,096; txtai sizes its IVF the same way, from the row count), PQ of dimension / 2
    four-bit codes (96 bytes a 384-d row), nprobe = `NPROBE_SHARE` of nlist and a re-rank of
    `RERANK_ROWS`.

    A longer re-rank list changed nothing on bench/scale.py's 100k and 300k archives (2,048: the
    same recall at every nprobe); a shorter one loses recall (256: 0.91 on the clustered rows of
    tests/test_vectors.py, 200 queries, where 1,024 gives 0.99; sentences 0.92 at 300k)."""
    if rows <= FLAT_MAX_ROWS or dimension % 2:
        return VectorSpec()
    nlist = min(4096, max(64, 2 ** round(math.log2(2 * math.sqrt(rows)))))
    return VectorSpec(kind="ivfpq", factory=f"IVF{nlist},PQ{dimension // 2}x4fs",
                      nprobe=default_nprobe(nlist), rerank=RERANK_ROWS)


def default_nprobe(nlist: int) -> int:
    return max(16, round(nlist * NPROBE_SHARE))


class VectorIndex:
    """Inner-product search over rows 0..count-1 (L2-normalised rows: cosine)."""

    def __init__(self, faiss_index: Any, spec: VectorSpec, vectors: np.ndarray | None = None) -> None:
        self.faiss_index = faiss_index
        self.spec = spec
        self._vectors = vectors

    # ------------------------------------------------------------ building

    @classmethod
    def build(cls, vectors: np.ndarray, spec: VectorSpec | None = None, *,
              trained: VectorIndex | None = None) -> VectorIndex:
        """An index of `vectors` (row i is id i), of kind `spec` (default `choose_spec`).

        `trained`: an index of the same spec whose trained quantizers are reused, so an
        update of an IVF index adds the rows again without running k-means.
        """
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows, dimension = vectors.shape
        spec = spec or choose_spec(rows, dimension)
        if spec.kind == "flat":
            flat = faiss.IndexFlatIP(dimension)
            flat.add(vectors)
            return cls(flat, spec)
        # Search settings (nprobe, re-rank) do not change what is trained: an index recorded with
        # older ones still lends its quantizers.
        if trained is not None and (trained.spec.kind, trained.spec.factory) == (spec.kind, spec.factory):
            index = faiss.clone_index(trained.faiss_index)
            index.reset()
        else:
            index = faiss.index_factory(dimension, spec.factory, faiss.METRIC_INNER_PRODUCT)
            nlist = faiss.extract_index_ivf(index).nlist
            sample = np.random.default_rng(0).choice(rows, min(rows, nlist * TRAIN_ROWS_PER_LIST), replace=False)
            index.train(vectors[np.sort(sample)])
        index.add(vectors)
        return cls(index, spec, vectors)

    def add(self, vectors: np.ndarray) -> VectorIndex:
        """A new index holding these rows after the existing ones (same kind, quantizers reused)."""
        combined = np.concatenate([self.vectors, np.asarray(vectors, dtype=np.float32)])
        return VectorIndex.build(combined, self.spec, trained=self)

    def remove(self, rows: np.ndarray) -> VectorIndex:
        """A new index without `rows`; the rows after them move up (ids stay 0..count-1)."""
        keep = np.ones(self.count, dtype=bool)
        keep[np.asarray(rows, dtype=np.int64)] = False
        return VectorIndex.build(self.vectors[keep], self.spec, trained=self)

    # ------------------------------------------------------------ storage

    def save(self, folder: Path, name: str) -> None:
        """`<name>.faiss`, and for IVF the exact rows as `<name>.vectors.npy`."""
        import faiss

        faiss.write_index(self.faiss_index, str(Path(folder) / f"{name}.faiss"))
        if self.spec.kind != "flat":
            np.save(Path(folder) / f"{name}.vectors.npy", np.ascontiguousarray(self.vectors, dtype=np.float32))

    @classmethod
    def load(cls, folder: Path, name: str, spec: VectorSpec | None = None) -> VectorIndex:
        """Read what `save` wrote, memory-mapped: a flat index's rows (FAISS `IO_FLAG_MMAP_IFC`) and
        the exact IVF rows are paged in as questions read them, not read at load."""
        import faiss

        spec = spec or VectorSpec()
        if spec.kind == "flat":
            return cls(faiss.read_index(str(Path(folder) / f"{name}.faiss"), faiss.IO_FLAG_MMAP_IFC), spec)
        index = faiss.read_index(str(Path(folder) / f"{name}.faiss"))
        vectors = np.load(Path(folder) / f"{name}.vectors.npy", mmap_mode="r").view(np.ndarray)
        return cls(index, spec, vectors)

    @staticmethod
    def stored_files(name: str, spec: VectorSpec) -> tuple[str, ...]:
        return (f"{name}.faiss",) if spec.kind == "flat" else (f"{name}.faiss", f"{name}.vectors.npy")

    # ------------------------------------------------------------ reading

    @property
    def count(self) -> int:
        return int(self.faiss_index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.faiss_index.d)

    @cached_property
    def nprobe(self) -> int:
        """Inverted lists an IVF search scans: the recorded `spec.nprobe`, or `default_nprobe`
        when that is more (an index built when the default was lower, see `NPROBE_SHARE`)."""
        import faiss

        if self.spec.kind == "flat":
            return 0
        return max(self.spec.nprobe, default_nprobe(faiss.extract_index_ivf(self.faiss_index).nlist))

    @property
    def exhaustive(self) -> bool:
        """True when a search can score every row exactly (flat)."""
        return self.spec.kind == "flat"

    @property
    def vectors(self) -> np.ndarray:
        """The exact stored rows, (count, dimension) float32: a view or a memory map, not a copy."""
        if self._vectors is not None:
            return self._vectors
        import faiss

        if self.count == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        buffer = faiss.rev_swig_ptr(self.faiss_index.get_xb(), self.count * self.dimension)
        self._vectors = np.asarray(_Owned(buffer.reshape(self.count, self.dimension), self.faiss_index))
        return self._vectors

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the `k` best rows, best first (ties: lower row first); only rows where
        `allowed` (a boolean mask over rows) is True. Scores are exact inner products."""
        import faiss

        query = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            candidates = int(allowed.sum())
            if candidates == 0:
                return _empty()
            if candidates <= EXACT_FILTER_ROWS or candidates <= k:
                return _exact(self.vectors, query[0], np.flatnonzero(allowed), k)
        k = min(k, self.count if allowed is None else int(allowed.sum()))
        if k <= 0:
            return _empty()
        depth = k if self.exhaustive else min(max(k, self.spec.rerank), self.count)
        bitmap = None
        if allowed is not None and not allowed.all():
            bitmap = np.packbits(allowed, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
        else:
            selector = None
        if self.exhaustive:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        else:
            params = faiss.SearchParametersIVF(nprobe=self.nprobe)
            if selector is not None:
                params.sel = selector
        _, rows = self.faiss_index.search(query, depth, params=params)
        del bitmap  # the selector read it during the search
        rows = rows[0][rows[0] >= 0]
        return _exact(self.vectors, query[0], rows, k)


class _Owned:
    """An array interface that keeps the FAISS index owning the memory alive as long as a view of it."""

    def __init__(self, view: np.ndarray, owner: Any) -> None:
        self.__array_interface__ = view.__array_interface__
        self.owner = owner


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)


def _exact(vectors: np.ndarray, query: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best of `rows` by exact inner product, best first, ties by row."""
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    if len(rows) == 0:
        return _empty()
    scores = np.asarray(vectors[rows] @ query, dtype=np.float32)
    order = np.lexsort((rows, -scores))[:k]
    return scores[order], rows[order]
