"""BM25 from postings stored per segment: the scores one bm25s index over every row gives."""

import bm25s
import numpy as np

from assistant.index.bm25 import SegmentedBM25, postings
from assistant.index.format import bm25_tokens
from assistant.index.terms import csr_ids

TEXTS = [
    "Shelling hit the market in Kharkiv. Three people died in the shelling.",
    "Drones struck a power plant overnight.",
    "",
    "the of and",
    "Kharkiv Kharkiv shelling market drones drones drones",
    "A power cut in Kyiv after drones struck the grid.",
    "Talks on a ceasefire resumed in Geneva.",
]


def segmented(texts_per_segment):
    vocabulary: dict[str, int] = {}
    parts = []
    for texts in texts_per_segment:
        indptr, ids = csr_ids(bm25_tokens(texts), vocabulary)
        parts.append((indptr, ids))
    # Segments written earlier list fewer terms than the final vocabulary: they still score.
    return SegmentedBM25(vocabulary, [postings(indptr, ids, int(ids.max(initial=-1)) + 1) for indptr, ids in parts])


def test_scores_over_segments_equal_one_bm25s_index_over_all_rows():
    reference = bm25s.BM25()
    reference.index(bm25_tokens(TEXTS), show_progress=False)
    for split in ([TEXTS], [TEXTS[:3], TEXTS[3:]], [TEXTS[:1], TEXTS[1:2], TEXTS[2:5], TEXTS[5:]]):
        ours = segmented(split)
        for query in (["kharkiv", "shell"], ["drone", "drone", "power"], ["ceasefir", "geneva"], ["market"]):
            expected = reference.get_scores([t for t in query if t in reference.vocab_dict])
            assert np.allclose(ours.get_scores(query), expected, rtol=1e-5, atol=1e-7), (len(split), query)


def test_unknown_terms_score_nothing():
    ours = segmented([TEXTS[:3], TEXTS[3:]])
    assert not ours.get_scores(["zzzz"]).any() and len(ours.get_scores([])) == len(TEXTS)


def test_scores_of_some_rows_from_their_term_ids_equal_the_scores_from_postings():
    vocabulary: dict[str, int] = {}
    indptr, ids = csr_ids(bm25_tokens(TEXTS), vocabulary)
    ours = SegmentedBM25(vocabulary, [postings(indptr, ids, len(vocabulary))])
    rows = np.array([4, 0, 2, 5])
    for query in (["kharkiv", "shell"], ["drone", "drone", "power"], ["zzz"]):
        assert np.allclose(ours.row_scores(query, rows, indptr, ids), ours.get_scores(query)[rows], rtol=1e-5)
