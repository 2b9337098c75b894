"""Vector indexes: kind chosen by size, exact filters, approximate recall, storage."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index import vectors as vectors_module
from assistant.index.vectors import FLAT_MAX_ROWS, VectorIndex, VectorSpec, choose_spec, default_nprobe


def unit_rows(count: int, dimension: int, *, clusters: int = 0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((count, dimension)).astype(np.float32)
    if clusters:  # topical structure, as sentence embeddings have
        centres = rng.standard_normal((clusters, dimension)).astype(np.float32) * 2
        rows += centres[rng.integers(0, clusters, count)]
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exact_top(rows: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
    scores = rows @ query
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    order = np.lexsort((np.arange(len(rows)), -scores))
    return [int(r) for r in order[:k] if np.isfinite(scores[r])]


def test_small_collections_are_flat_and_large_ones_ivf_pq_recorded_by_factory_string():
    assert choose_spec(FLAT_MAX_ROWS, 384) == VectorSpec()
    large = choose_spec(1_000_000, 384)
    assert large.kind == "ivfpq" and large.factory == "IVF2048,PQ192x4fs"
    assert large.nprobe == 768 and large.rerank >= 20  # 3/8 of the lists (bench/ivf_recall.py)


def test_flat_search_is_exact_and_a_filter_never_returns_a_disallowed_row():
    rows = unit_rows(3_000, 32, seed=1)
    index = VectorIndex.build(rows)
    assert index.spec.kind == "flat" and index.exhaustive
    query = rows[7]
    scores, found = index.search(query, 20)
    assert found.tolist() == exact_top(rows, query, 20)
    assert np.allclose(scores, rows[found] @ query)
    allowed = np.zeros(len(rows), dtype=bool)
    allowed[::3] = True
    _, found = index.search(query, 20, allowed)
    assert found.tolist() == exact_top(rows, query, 20, allowed)
    _, none = index.search(query, 20, np.zeros(len(rows), dtype=bool))
    assert none.tolist() == []


def test_flat_rows_are_read_in_place_not_copied():
    rows = unit_rows(100, 8)
    index = VectorIndex.build(rows)
    assert np.array_equal(index.vectors, rows)
    assert not index.vectors.flags.owndata
    view = VectorIndex.build(rows).vectors  # the index itself is gone: the view keeps its memory
    assert np.array_equal(view, rows)


@pytest.fixture(scope="module")
def ivf(tmp_path_factory):
    rows = unit_rows(60_000, 32, clusters=200, seed=2)
    index = VectorIndex.build(rows)
    folder = tmp_path_factory.mktemp("ivf")
    index.save(folder, "sentences")
    return rows, index, folder


def test_a_large_collection_is_ivf_pq_with_recall_at_20_against_exact_search(ivf):
    rows, index, _ = ivf
    assert index.spec.kind == "ivfpq" and index.spec.factory.endswith("x4fs") and not index.exhaustive
    queries = unit_rows(50, 32, clusters=200, seed=3)
    recall = np.mean([len(set(index.search(q, 20)[1].tolist()) & set(exact_top(rows, q, 20))) / 20
                      for q in queries])
    assert recall >= 0.95


def test_ivf_filters_are_exact_broad_or_narrow(ivf, monkeypatch):
    rows, index, _ = ivf
    query = rows[11]
    broad = np.zeros(len(rows), dtype=bool)
    broad[: len(rows) // 2] = True      # half the archive: searched through FAISS with a selector
    _, found = index.search(query, 20, broad)
    assert len(found) == 20 and broad[found].all()
    narrow = np.zeros(len(rows), dtype=bool)
    narrow[np.random.default_rng(4).choice(len(rows), 500, replace=False)] = True
    _, found = index.search(query, 20, narrow)  # a rare outlet: scanned exactly
    assert found.tolist() == exact_top(rows, query, 20, narrow)
    monkeypatch.setattr(vectors_module, "EXACT_FILTER_ROWS", 0)  # the selector path alone stays exact
    _, found = index.search(query, 20, narrow)
    assert narrow[found].all()


def test_ivf_index_round_trips_with_its_exact_rows_memory_mapped(ivf):
    rows, index, folder = ivf
    loaded = VectorIndex.load(folder, "sentences", index.spec)
    # a plain view of the memory map (no copy, no numpy.memmap indexing overhead)
    assert isinstance(loaded.vectors.base, np.memmap) and np.array_equal(loaded.vectors[:5], rows[:5])
    query = rows[42]
    assert loaded.search(query, 20)[1].tolist() == index.search(query, 20)[1].tolist()


def test_add_and_remove_keep_row_numbers_dense_and_reuse_the_trained_quantizer(ivf):
    rows, index, _ = ivf
    extra = unit_rows(10, 32, clusters=200, seed=5)
    grown = index.add(extra)
    assert grown.count == len(rows) + 10 and grown.spec == index.spec
    assert grown.search(extra[3], 1)[1].tolist() == [len(rows) + 3]
    shrunk = grown.remove(np.arange(len(rows)))
    assert shrunk.count == 10 and shrunk.search(extra[3], 1)[1].tolist() == [3]


def test_an_index_recorded_with_an_older_nprobe_searches_with_todays_and_lends_its_quantizer(ivf):
    import dataclasses

    import faiss

    rows, index, folder = ivf
    nlist = faiss.extract_index_ivf(index.faiss_index).nlist
    older = dataclasses.replace(index.spec, nprobe=nlist // 4)  # what builds recorded before (nlist/4)
    assert index.spec.nprobe == default_nprobe(nlist) > older.nprobe
    loaded = VectorIndex.load(folder, "sentences", older)
    assert loaded.nprobe == index.nprobe == default_nprobe(nlist)
    queries = unit_rows(20, 32, clusters=200, seed=6)
    assert [loaded.search(q, 20)[1].tolist() for q in queries] == [index.search(q, 20)[1].tolist() for q in queries]
    # An update of that index (same factory, today's spec) adds the rows without training again.
    grown = VectorIndex.build(np.concatenate([rows, queries]), index.spec, trained=loaded)
    assert grown.spec == index.spec and grown.count == len(rows) + len(queries)
    centroids = [faiss.extract_index_ivf(i.faiss_index).quantizer.reconstruct_n(0, nlist) for i in (loaded, grown)]
    assert np.array_equal(*centroids)
