"""Retrieval: fusion, filters and the prepared search arrays."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from answers_support import NEWS, news_service
from assistant.search.retrieval import (
    RRF_K, FusionMethod, PassageScores, SearchFilters, date_matches, document_mask, fuse,
    top_rows,
)


@pytest.fixture(scope="module")
def index():
    return news_service().search_index


def scores(dense, bm25, allowed=None):
    dense, bm25 = np.array(dense, np.float32), np.array(bm25, np.float32)
    return PassageScores(dense=dense, bm25=bm25,
                         allowed=np.ones(len(dense), bool) if allowed is None else np.array(allowed))


def test_rrf_adds_reciprocal_ranks():
    fused = fuse(scores([0.9, 0.1, 0.5], [0.0, 3.0, 2.0]), FusionMethod.RRF)
    expected = [1 / (RRF_K + 1) + 1 / (RRF_K + 3), 1 / (RRF_K + 3) + 1 / (RRF_K + 1),
                1 / (RRF_K + 2) + 1 / (RRF_K + 2)]
    assert np.allclose(fused, expected)


def test_weighted_fusion_scales_bm25_by_the_best_score():
    from assistant.search.retrieval import BM25_WEIGHT, DENSE_WEIGHT

    fused = fuse(scores([0.5, 0.4], [2.0, 4.0]), FusionMethod.WEIGHTED)
    assert np.allclose(fused, [DENSE_WEIGHT * 0.5 + BM25_WEIGHT * 0.5, DENSE_WEIGHT * 0.4 + BM25_WEIGHT])


def test_filtered_passages_never_rank():
    fused = fuse(scores([0.9, 0.2, 0.1], [5.0, 0.0, 0.0], allowed=[False, True, True]), FusionMethod.DENSE)
    assert fused[0] == -np.inf
    assert top_rows(fused, 5).tolist() == [1, 2]
    assert top_rows(np.full(3, -np.inf), 5).tolist() == []


def ids(index, mask):
    return {document.id for document, keep in zip(index.documents, mask) if keep}


def test_source_filter_matches_any_named_outlet_case_insensitively(index):
    assert ids(index, document_mask(index, SearchFilters(sources=("al jazeera",)))) == {"gaza-school-0118"}
    assert ids(index, document_mask(index, SearchFilters(sources=("AP", "BBC News")))) == {
        "gaza-school-0120", "sumy-ap", "port-sudan"}
    assert ids(index, document_mask(index, SearchFilters(sources=("Reut",)))) == set()


def test_date_window_includes_both_ends(index):
    window = SearchFilters(since=dt.date(2025, 1, 18), until=dt.date(2025, 1, 20))
    assert ids(index, document_mask(index, window)) == {"gaza-school-0118", "gaza-school-0120"}
    assert len(ids(index, document_mask(index, SearchFilters()))) == len(NEWS)


def test_date_matches_for_a_named_month(index):
    january = date_matches(index, [(dt.date(2025, 1, 1), dt.date(2025, 1, 31))])
    assert ids(index, january) == {"gaza-school-0118", "gaza-school-0120", "goma"}


def test_prepared_index_keeps_offsets_and_vectors_aligned(index):
    assert index.sentence_vectors.shape == (len(index.sentence_doc), 384)
    assert np.allclose(np.linalg.norm(index.chunk_vectors, axis=1), 1.0, atol=1e-4)
    for row in range(len(index.sentence_doc)):
        text = index.sentence_text(row)
        document = index.documents[index.sentence_doc[row]]
        assert document.text[index.sentence_start[row]:index.sentence_end[row]] == text
        assert row in index.chunk_sentences[index.sentence_chunk[row]]


@pytest.fixture(scope="module")
def attributed_index():
    from answers_support import build
    from assistant.index.store import load_index
    from assistant.records import CitedReport, Document
    from assistant.search.retrieval import prepare

    portal = "Wikipedia Portal:Current events"
    documents = (
        Document(id="syria", title="Syrian civil war", source="AFP via Al-Arabiya; SOHR 2", publisher=portal,
                 cites=(CitedReport(name="AFP via Al-Arabiya", url="https://a.example/1"),
                        CitedReport(name="SOHR 2", url="https://s.example/2")),
                 published="2025-03-07", text="Security forces executed 52 men in Latakia province."),
        Document(id="marseille", title="Attacks in France", source="France24", publisher=portal,
                 cites=(CitedReport(name="France24", url="https://f.example/3"),), published="2025-02-24",
                 text="Three molotov cocktails are thrown at the Russian consulate in Marseille."),
        Document(id="wikinews", title="Car bomb in Maidan Wardak", source="Wikinews", publisher="Wikinews",
                 published="2019-01-24", text="A car bomb was rammed into a military base in Maidan Shahr."),
    )
    return prepare(load_index(build("attributed", documents)))


@pytest.mark.parametrize("wanted, expected", [
    (["Al Arabiya"], {"syria"}),                       # the relay of "AFP via Al-Arabiya"
    (["afp"], {"syria"}),                              # the agency of "AFP via Al-Arabiya"
    (["France 24"], {"marseille"}),                    # cited as "France24"
    (["SOHR"], {"syria"}),                             # cited as "SOHR 2"
    (["Wikipedia, Portal:Current events"], {"syria", "marseille"}),  # the publisher
    (["wikinews", "france-24"], {"wikinews", "marseille"}),
    (["Reuters"], set()),
])
def test_source_filter_matches_the_publisher_or_any_cited_outlet(attributed_index, wanted, expected):
    assert ids(attributed_index, document_mask(attributed_index, SearchFilters(sources=tuple(wanted)))) == expected


def test_source_choices_are_publishers_and_cited_outlets_once(attributed_index):
    assert attributed_index.outlets == ("AFP", "Al Arabiya", "France 24", "SOHR", "Wikinews",
                                        "Wikipedia, Portal:Current events")


def test_passage_candidates_deepen_until_the_fused_top_is_the_exhaustive_one(index):
    from assistant.search.retrieval import bm25_scores, passage_candidates

    query_vector = index.chunk_vectors[3] * 0.5 + index.chunk_vectors[0] * 0.5
    query_vector = query_vector / np.linalg.norm(query_vector)
    bm25 = bm25_scores(index.chunk_bm25, ["school", "strike"], len(index.chunk_doc))
    everything = np.ones(len(index.chunk_doc), dtype=bool)
    exhaustive = fuse(PassageScores(dense=(index.chunk_vectors @ query_vector).astype(np.float32),
                                    bm25=bm25, allowed=everything))
    rows, cosines = passage_candidates(index, query_vector, bm25, everything, need=3, depth=1)
    assert 3 <= len(rows) < len(index.chunk_doc) or len(rows) == len(index.chunk_doc)
    dense = np.zeros(len(index.chunk_doc), dtype=np.float32)
    dense[rows] = cosines
    allowed = np.zeros(len(index.chunk_doc), dtype=bool)
    allowed[rows] = True
    candidates = fuse(PassageScores(dense=dense, bm25=bm25, allowed=allowed))
    assert top_rows(candidates, 3).tolist() == top_rows(exhaustive, 3).tolist()


def test_top_rows_breaks_ties_by_row():
    assert top_rows(np.array([0.5, 0.9, 0.5, 0.5, 0.1]), 3).tolist() == [1, 0, 2]
