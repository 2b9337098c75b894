"""Scoring candidate sentences: which sentence of the top passages answers the question?

Each candidate gets a small vector of features (passage relevance, sentence
similarity, overlap of the question's terms with the sentence and its
neighbours, answer-type cues). The fitted models of `scoring.py` turn them
into a ranking score, a pointwise answer logit, and, from the best values over
all candidates (`EVIDENCE_NAMES`), the logit that the corpus answers at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.search.presence import PRESENCE_NAMES, presence_features
from assistant.search.questions import AnswerKind
from assistant.search.scoring import RankerModel, check_model, load_ranker
from assistant.search.retrieval import (
    FusionMethod, PassageScores, SearchFilters, SearchIndex, date_matches, fuse,
    query_bigrams, query_terms, score_passages, top_rows,
)

FEATURE_NAMES = (
    "bias", "passage_fused", "passage_dense", "passage_bm25_rel", "passage_log_rank",
    "sentence_dense", "sentence_dense_gap", "sentence_bm25_rel", "coverage", "coverage_gap",
    "window_coverage", "title_coverage", "novel_number", "novel_date", "novel_name",
    "kind_missing", "log_length", "first_sentence", "novelty", "passage_dense_gap", "fused_gap",
    "neighbor_dense", "coverage_gap_in_passage", "dense_gap_in_passage", "sentence_bm25_log",
    "top_passage_coverage", "rarest_term_present", "bigram_overlap", "passage_coverage",
    "passage_coverage_gap",
)


EVIDENCE_NAMES = (
    "best_passage_dense", "best_sentence_dense", "best_coverage", "best_window_coverage",
    "best_passage_coverage", "best_answer_logit", "known_term_share", "least_missing_idf",
)
"""Per-question signals of the evidence model (scoring.py): does the corpus answer at all?

Unknown question words and a rare question word missing from every candidate
passage are the strongest signs that a corpus is the wrong one to ask."""


@dataclass(frozen=True, kw_only=True)
class Candidates:
    """Candidate sentences for one question, their passage and their features."""

    rows: np.ndarray
    passage_rank: np.ndarray
    features: np.ndarray


_NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|"
    r"dozen|dozens)\b", re.IGNORECASE)
_DATE = re.compile(
    r"\b(1\d{3}|20\d{2})\b|\b(January|February|March|April|May|June|July|August|September|"
    r"October|November|December|century|centuries|decade)\b|\b\d{1,2}(st|nd|rd|th)\b")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+")


def _novel(pattern: re.Pattern[str], sentence: str, question_lower: str) -> float:
    return float(any(match.group(0).lower() not in question_lower for match in pattern.finditer(sentence)))


def _coverage(terms: frozenset[int], query: Sequence[int], idf: np.ndarray, total: float) -> float:
    if total <= 0:
        return 0.0
    return float(sum(idf[t] for t in query if t in terms)) / total


def _neighbor_dense(index: SearchIndex, rows: np.ndarray, docs: np.ndarray,
                    query_vector: np.ndarray) -> np.ndarray:
    """Best cosine of the sentence before or after (same document), 0 where there is none."""
    last = len(index.sentence_doc) - 1
    best = np.zeros(len(rows))
    for offset in (-1, 1):
        neighbours = np.clip(rows + offset, 0, last)
        same = (index.sentence_doc[neighbours] == docs) & (neighbours != rows)
        if same.any():
            cosine = index.sentence_vectors[neighbours[same]] @ query_vector
            best[same] = np.maximum(best[same], cosine)
    return best


def candidate_features(
    index: SearchIndex, *, question: str, kind: AnswerKind, query_vector: np.ndarray,
    query_term_ids: Sequence[int], query_bigram_ids: frozenset[tuple[int, int]],
    passage_rows: np.ndarray, fused: np.ndarray,
    passage_dense: np.ndarray, passage_bm25: np.ndarray, sentence_bm25: np.ndarray,
) -> Candidates:
    """Features of every sentence in the passages `passage_rows` (best first).

    `fused`, `passage_dense`, `passage_bm25` are per-chunk arrays for the query;
    `sentence_bm25` is per-sentence. Relative features (`*_rel`, `*_gap`) compare
    a candidate with the best candidate of the same question, so they carry the
    ranking; absolute ones (cosines, coverage) also say whether anything fits.
    """
    rows_list, ranks_list = [], []
    for rank, chunk in enumerate(passage_rows):
        sentences = index.chunk_sentences[int(chunk)]
        rows_list.append(sentences)
        ranks_list.append(np.full(len(sentences), rank, dtype=np.int64))
    if not rows_list or sum(len(rows) for rows in rows_list) == 0:
        return Candidates(rows=np.zeros(0, np.int64), passage_rank=np.zeros(0, np.int64),
                          features=np.zeros((0, len(FEATURE_NAMES))))
    rows = np.concatenate(rows_list).astype(np.int64)
    ranks = np.concatenate(ranks_list)
    chunks = index.sentence_chunk[rows]
    docs = index.sentence_doc[rows]
    idf = index.term_idf
    total_idf = float(sum(idf[t] for t in query_term_ids))
    question_lower = question.lower()
    question_terms = frozenset(query_term_ids)

    best_bm25 = float(passage_bm25.max()) if len(passage_bm25) else 0.0
    sentence_dense = index.sentence_vectors[rows] @ query_vector
    sentence_bm25_here = sentence_bm25[rows]
    best_sentence_bm25 = float(sentence_bm25_here.max()) if len(rows) else 0.0
    features = np.zeros((len(rows), len(FEATURE_NAMES)), dtype=np.float64)
    last = len(index.sentence_doc) - 1
    for i, row in enumerate(rows):
        terms = index.sentence_terms[row]
        window = terms
        if row > 0 and index.sentence_doc[row - 1] == docs[i]:
            window = window | index.sentence_terms[row - 1]
        if row < last and index.sentence_doc[row + 1] == docs[i]:
            window = window | index.sentence_terms[row + 1]
        text = index.sentence_text(int(row))
        novel_number = _novel(_NUMBER, text, question_lower)
        novel_date = _novel(_DATE, text, question_lower)
        novel_name = _novel(_NAME, text, question_lower)
        wanted = {AnswerKind.NUMBER: novel_number, AnswerKind.DATE: novel_date,
                  AnswerKind.PERSON: novel_name, AnswerKind.PLACE: novel_name}.get(kind, 1.0)
        features[i, 8] = _coverage(terms, query_term_ids, idf, total_idf)
        features[i, 10] = _coverage(window, query_term_ids, idf, total_idf)
        features[i, 11] = _coverage(index.title_terms[docs[i]], query_term_ids, idf, total_idf)
        features[i, 12] = novel_number * (kind is AnswerKind.NUMBER)
        features[i, 13] = novel_date * (kind is AnswerKind.DATE)
        features[i, 14] = novel_name * (kind in (AnswerKind.PERSON, AnswerKind.PLACE))
        features[i, 15] = float(kind is not AnswerKind.OTHER and wanted == 0.0)
        features[i, 16] = np.log1p(len(text))
        features[i, 17] = float(row == 0 or index.sentence_doc[row - 1] != docs[i])
        features[i, 18] = len(terms - question_terms) / max(len(terms), 1)
    features[:, 0] = 1.0
    features[:, 1] = fused[chunks]
    features[:, 2] = passage_dense[chunks]
    features[:, 3] = passage_bm25[chunks] / best_bm25 if best_bm25 > 0 else 0.0
    features[:, 4] = np.log1p(ranks)
    features[:, 5] = sentence_dense
    features[:, 6] = sentence_dense - sentence_dense.max()
    features[:, 7] = sentence_bm25_here / best_sentence_bm25 if best_sentence_bm25 > 0 else 0.0
    features[:, 9] = features[:, 8] - features[:, 8].max()
    features[:, 19] = features[:, 2] - float(passage_dense.max())
    finite = fused[np.isfinite(fused)]
    features[:, 20] = features[:, 1] - (float(finite.max()) if len(finite) else 0.0)
    features[:, 21] = _neighbor_dense(index, rows, docs, query_vector)
    for chunk in np.unique(chunks):
        same = chunks == chunk
        features[same, 22] = features[same, 8] - features[same, 8].max()
        features[same, 23] = sentence_dense[same] - sentence_dense[same].max()
    features[:, 24] = np.log1p(sentence_bm25_here)
    features[:, 25] = features[:, 8] * (ranks == 0)
    rarest = max(query_term_ids, key=lambda term: idf[term]) if query_term_ids else -1
    passage_terms: dict[int, frozenset[int]] = {}
    for i, row in enumerate(rows):
        chunk = int(chunks[i])
        if chunk not in passage_terms:
            passage_terms[chunk] = frozenset().union(
                *(index.sentence_terms[r] for r in index.chunk_sentences[chunk]))
        features[i, 26] = float(rarest in index.sentence_terms[row])
        if query_bigram_ids:
            features[i, 27] = len(query_bigram_ids & index.sentence_bigrams[row]) / len(query_bigram_ids)
        features[i, 28] = _coverage(passage_terms[chunk], query_term_ids, idf, total_idf)
    features[:, 29] = features[:, 28] - features[:, 8]
    return Candidates(rows=rows, passage_rank=ranks, features=features)


PASSAGES_PER_QUESTION = 10
"""Sentences are drawn from this many top passages (SQuAD v1.1 dev passage recall@5 is 0.96,
@20 0.99; 98% of questions have an answer-bearing sentence among the candidates)."""


@dataclass(frozen=True, kw_only=True)
class Ranking:
    """Everything one question's retrieval produced, for answering and for evaluation.

    `passage_rows` are chunk rows best first (date-matching passages included);
    `scores` (ranking) and `support` (answer logit) align with `candidates.rows`;
    `evidence` is the logit that the corpus answers at all (see `evidence_logit`);
    `preferred` marks candidates published on a date the question names.
    `own_evidence` is the evidence logit of each candidate on its own (its own signals
    instead of the best over all candidates) and `presence` the logit that it holds
    the detail asked for (`presence.py`), both aligned with `candidates.rows`.
    """

    fused: np.ndarray
    passage_scores: PassageScores
    passage_rows: np.ndarray
    candidates: Candidates
    scores: np.ndarray
    support: np.ndarray
    evidence_features: np.ndarray
    evidence: float
    preferred: np.ndarray
    sentence_bm25: np.ndarray
    own_evidence: np.ndarray
    presence_features: np.ndarray
    presence: np.ndarray


def least_missing_idf(index: SearchIndex, passage_rows: np.ndarray, query_term_ids: Sequence[int]) -> float:
    """Over the candidate passages, the smallest "rarest question term it lacks" (IDF / top IDF).

    0 when some passage holds every question term; near 1 when every passage
    lacks a rare word of the question (a name the corpus never pairs with the rest).
    """
    if not query_term_ids or len(passage_rows) == 0:
        return 1.0
    top_idf = float(index.term_idf.max()) or 1.0
    least = 1.0
    for chunk in passage_rows:
        terms = frozenset().union(*(index.sentence_terms[r] for r in index.chunk_sentences[int(chunk)]))
        missing = [index.term_idf[t] for t in query_term_ids if t not in terms]
        least = min(least, (max(missing) / top_idf) if missing else 0.0)
    return float(least)


_EVIDENCE_COLUMNS = ("passage_dense", "sentence_dense", "coverage", "window_coverage", "passage_coverage")


def evidence_inputs(candidates: Candidates, support: np.ndarray, known_term_share: float,
                    missing_idf: float) -> np.ndarray:
    """The `EVIDENCE_NAMES` values of one question: best of each signal over its candidates."""
    if len(candidates.rows) == 0:
        return np.array([0.0, 0.0, 0.0, 0.0, 0.0, -10.0, known_term_share, missing_idf])
    columns = [FEATURE_NAMES.index(name) for name in _EVIDENCE_COLUMNS]
    best = candidates.features[:, columns].max(axis=0)
    return np.concatenate([best, [float(support.max()), known_term_share, missing_idf]])


def own_evidence_inputs(candidates: Candidates, support: np.ndarray, known_term_share: float,
                        missing_idf: float) -> np.ndarray:
    """The `EVIDENCE_NAMES` values of each candidate on its own, one row per candidate.

    The same test the first quote passes (`evidence_inputs` takes the best of each
    signal), asked of one sentence: a further quote must pass it with its own values.
    """
    columns = [FEATURE_NAMES.index(name) for name in _EVIDENCE_COLUMNS]
    count = len(candidates.rows)
    return np.column_stack([candidates.features[:, columns], support,
                            np.full(count, known_term_share), np.full(count, missing_idf)])


def default_model() -> RankerModel:
    """The shipped `ranker.json`, checked against the features computed here."""
    model = load_ranker()
    check_model(model, FEATURE_NAMES, EVIDENCE_NAMES, PRESENCE_NAMES)
    return model


DATE_PREFERENCE_COVERAGE = 0.75
"""A report from the date a question names ranks first only if its sentence covers at least
this share of the best candidate's question-term coverage (IDF-weighted, feature "coverage").

Without it, "killed in the Israeli strike on Gaza on 18 January 2025" put a Kryvyi Rih
missile strike of that day first. Chosen on hand-checked conflict-news questions: on-topic
reports of the named day covered 0.87-1.0 of the best, off-topic ones 0.47-0.55."""


def date_preferred(candidates: Candidates, on_named_date: np.ndarray) -> np.ndarray:
    """Which candidates to show first: from the named date, and about what the question asks."""
    coverage = candidates.features[:, FEATURE_NAMES.index("coverage")]
    if len(coverage) == 0:
        return on_named_date
    return on_named_date & (coverage >= DATE_PREFERENCE_COVERAGE * coverage.max())


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def names_period(text: str, ranges: Sequence) -> bool:
    """True when `text` names a date inside one of the (start, end) `ranges`: its year, and
    its month too when the range lies within one month ("killed in January 2020" in a 2025 report)."""
    for start, end in ranges:
        if start.year != end.year or str(start.year) not in text:
            continue
        if (start.month, start.year) == (end.month, end.year) and _MONTHS[start.month - 1] not in text:
            continue
        return True
    return False


def candidate_sentence_bm25(index: SearchIndex, query_tokens: Sequence[str], passage_rows: np.ndarray) -> np.ndarray:
    """BM25 of the sentences of `passage_rows` (the only ones ranking reads), 0 for every other sentence."""
    scores = np.zeros(len(index.sentence_doc), dtype=np.float32)
    if len(passage_rows):
        rows = np.concatenate([index.chunk_sentences[int(chunk)] for chunk in passage_rows]).astype(np.int64)
        scores[rows] = index.sentence_bm25.row_scores(query_tokens, rows, index.sentence_terms.indptr,
                                                      index.sentence_terms.ids)
    return scores


def rank_sentences(
    index: SearchIndex, *, question: str, kind: AnswerKind, query_vector: np.ndarray,
    query_tokens: Sequence[str], filters: SearchFilters, date_ranges: Sequence = (),
    method: FusionMethod | None = None, passages: int = PASSAGES_PER_QUESTION,
    model: RankerModel | None = None,
) -> Ranking:
    """Retrieve passages, gather their sentences and score them for one question.

    `date_ranges` are (start, end) date pairs the question names: passages
    published then join the candidates even when ranked lower, and those of their
    sentences that are about the question (`date_preferred`) are `preferred` (shown first). `model` defaults to the shipped `ranker.json`.
    """
    model = model or default_model()
    in_range_docs = date_matches(index, date_ranges) if date_ranges else None
    scores = score_passages(index, query_vector, query_tokens, filters, also_documents=in_range_docs)
    fused = fuse(scores, method or FusionMethod.WEIGHTED)
    passage_rows = top_rows(fused, passages)
    if in_range_docs is not None and in_range_docs.any():
        dated = np.where(in_range_docs[index.chunk_doc], fused, -np.inf)
        seen = set(passage_rows.tolist())
        extra = [row for row in top_rows(dated, passages) if row not in seen]
        passage_rows = np.concatenate([passage_rows, np.asarray(extra, dtype=np.int64)])
    sentence_bm25 = candidate_sentence_bm25(index, query_tokens, passage_rows)
    candidates = candidate_features(
        index, question=question, kind=kind, query_vector=query_vector,
        query_term_ids=query_terms(index, query_tokens),
        query_bigram_ids=query_bigrams(index, query_tokens), passage_rows=passage_rows, fused=fused,
        passage_dense=scores.dense, passage_bm25=scores.bm25, sentence_bm25=sentence_bm25,
    )
    preferred = (date_preferred(candidates, in_range_docs[index.sentence_doc[candidates.rows]])
                 if in_range_docs is not None else np.zeros(len(candidates.rows), dtype=bool))
    support = model.answer_logits(candidates.features)
    term_ids = query_terms(index, query_tokens)
    known = len(term_ids) / max(len(set(query_tokens)), 1)
    missing_idf = least_missing_idf(index, passage_rows, term_ids)
    evidence_features = evidence_inputs(candidates, support, known, missing_idf)
    rank_scores = model.rank_scores(candidates.features)
    presence_inputs = presence_features(
        index, question=question, kind=kind, rows=candidates.rows, ranker_features=candidates.features,
        feature_names=FEATURE_NAMES, support=support, scores=rank_scores, query_term_ids=term_ids,
        known_term_share=known, least_missing_idf=missing_idf)
    return Ranking(fused=fused, passage_scores=scores, passage_rows=passage_rows,
                   candidates=candidates, scores=rank_scores, support=support,
                   evidence_features=evidence_features, evidence=model.evidence_logit(evidence_features),
                   preferred=preferred,
                   sentence_bm25=sentence_bm25,
                   own_evidence=model.evidence_logits(
                       own_evidence_inputs(candidates, support, known, missing_idf)),
                   presence_features=presence_inputs,
                   presence=model.presence_logits(presence_inputs))
