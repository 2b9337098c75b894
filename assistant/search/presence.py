"""Does a sentence hold what the question asks for? Features of the answer-presence check.

The evidence model (scoring.py) says whether the corpus is about the question at
all. This check asks the narrower question a reader cares about once it is: does
*this* sentence give the asked-for detail? A sentence about the right event that
lacks the number, the person or the place asked for, or lacks one of the
question's key terms (in the sentence, its neighbours or the title that gives its
attribution context), should not be quoted as an answer.

`presence_features` computes `PRESENCE_NAMES` for every candidate sentence of a
question from the ranker's features and the index; `scoring.RankerModel.presence_logits`
turns them into a logit (fitted by bench/eval_presence.py on the even articles of
the SQuAD v2.0 half). The same logit is asked of the first quote and, on its own,
of every further quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from assistant.ingest.dates import question_dates
from assistant.search.questions import AnswerKind
from assistant.search.retrieval import SearchIndex

PRESENCE_NAMES = (
    "support", "rank_gap", "sentence_dense", "passage_dense", "coverage", "window_coverage",
    "passage_coverage", "title_coverage", "kind_missing", "bigram_overlap", "rarest_term_present",
    "missing_window_idf", "missing_passage_idf", "missing_window_share", "question_numbers_missing",
    "known_term_share", "least_missing_idf", "kind_number", "kind_date", "kind_person_place",
    "names_missing_window", "negation_unmatched", "score_gap_next", "names_missing_passage",
    "numbers_missing_window",
)
"""Per-candidate inputs of the presence check. `missing_*_idf`: the rarest question term
absent from the sentence with its neighbours and title (window) or from its passage and
title, as IDF / the question's top IDF (0 when none is missing); `missing_window_share`:
the share of question terms absent from the window; `question_numbers_missing`: the share
of numbers the question names ("in 1066", "7 people") absent from the passage;
`names_missing_window`: the share of names the question gives (capitalised words after the
first) absent from the window's text; `negation_unmatched`: the question says "not", "never",
"no" or "n't" and the window does not; `score_gap_next`: the candidate's ranking score minus
the best other candidate's (how clearly it stands out); `names_missing_passage` and
`numbers_missing_window`: names absent from the passage, numbers absent from the window."""

_RANKER_COLUMNS = ("sentence_dense", "passage_dense", "coverage", "window_coverage",
                   "passage_coverage", "title_coverage", "kind_missing", "bigram_overlap",
                   "rarest_term_present")
_DIGITS = re.compile(r"\d+")
_NAMES = re.compile(r"(?<!^)\b[A-Z][\w'’-]+")
_NEGATION = re.compile(r"\b(not|never|no|none|without)\b|n't\b", re.IGNORECASE)


def _missing(terms: frozenset[int], query: Sequence[int], idf: np.ndarray, top: float) -> tuple[float, float]:
    """(IDF of the rarest missing query term / top, share of query terms missing)."""
    absent = [idf[term] for term in query if term not in terms]
    if not absent or top <= 0:
        return 0.0, 0.0
    return float(max(absent)) / top, len(absent) / len(query)


def presence_features(index: SearchIndex, *, question: str, kind: AnswerKind, rows: np.ndarray,
                      ranker_features: np.ndarray, feature_names: Sequence[str], support: np.ndarray,
                      scores: np.ndarray, query_term_ids: Sequence[int], known_term_share: float,
                      least_missing_idf: float) -> np.ndarray:
    """`PRESENCE_NAMES` for each candidate sentence `rows` (aligned with `ranker_features`)."""
    out = np.zeros((len(rows), len(PRESENCE_NAMES)), dtype=np.float64)
    if len(rows) == 0:
        return out
    column = {name: position for position, name in enumerate(PRESENCE_NAMES)}
    out[:, column["support"]] = support
    out[:, column["rank_gap"]] = scores - scores.max()
    for name in _RANKER_COLUMNS:
        out[:, column[name]] = ranker_features[:, list(feature_names).index(name)]
    idf = index.term_idf
    query = tuple(dict.fromkeys(query_term_ids))
    top = float(max((idf[term] for term in query), default=0.0))
    # A period the question names is the date filter's business (service.py), not a detail to find.
    for named in sorted(question_dates(question), key=lambda found: -found.span_start):
        question = question[:named.span_start] + " " + question[named.span_end:]
    numbers = set(_DIGITS.findall(question))
    # A name's stem: "Russian" is found in "Russia", "Ukrainian" in "Ukraine".
    names = {name.casefold()[:max(4, len(name) - 2)] for name in _NAMES.findall(question.strip())}
    negated = bool(_NEGATION.search(question))
    last = len(index.sentence_doc) - 1
    passage_cache: dict[int, tuple[frozenset[int], str]] = {}
    for i, row in enumerate(rows):
        row = int(row)
        doc = index.sentence_doc[row]
        title = index.title_terms[doc]
        window = index.sentence_terms[row] | title
        if row > 0 and index.sentence_doc[row - 1] == doc:
            window = window | index.sentence_terms[row - 1]
        if row < last and index.sentence_doc[row + 1] == doc:
            window = window | index.sentence_terms[row + 1]
        if names or negated or numbers:
            window_text = " ".join(index.sentence_text(r) for r in (row - 1, row, row + 1)
                                   if 0 <= r <= last and index.sentence_doc[r] == doc)
            window_text += " " + index.documents[doc].title
            if names:
                folded = window_text.casefold()
                out[i, column["names_missing_window"]] = sum(name not in folded for name in names) / len(names)
            if numbers:
                out[i, column["numbers_missing_window"]] = (
                    len(numbers - set(_DIGITS.findall(window_text))) / len(numbers))
            out[i, column["negation_unmatched"]] = float(negated and not _NEGATION.search(window_text))
        chunk = int(index.sentence_chunk[row])
        if chunk not in passage_cache:
            members = index.chunk_sentences[chunk]
            passage_cache[chunk] = (
                frozenset().union(*(index.sentence_terms[r] for r in members)) | title,
                " ".join(index.sentence_text(int(r)) for r in members),
            )
        passage_terms, passage_text = passage_cache[chunk]
        if names:
            folded_passage = (passage_text + " " + index.documents[doc].title).casefold()
            out[i, column["names_missing_passage"]] = (
                sum(name not in folded_passage for name in names) / len(names))
        out[i, column["missing_window_idf"]], out[i, column["missing_window_share"]] = _missing(
            window, query, idf, top)
        out[i, column["missing_passage_idf"]], _ = _missing(passage_terms, query, idf, top)
        if numbers:
            present = set(_DIGITS.findall(passage_text))
            out[i, column["question_numbers_missing"]] = len(numbers - present) / len(numbers)
    if len(scores) > 1:
        order = np.argsort(-scores, kind="stable")
        best, runner_up = scores[order[0]], scores[order[1]]
        out[:, column["score_gap_next"]] = scores - np.where(np.arange(len(scores)) == order[0], runner_up, best)
    out[:, column["known_term_share"]] = known_term_share
    out[:, column["least_missing_idf"]] = least_missing_idf
    out[:, column["kind_number"]] = float(kind is AnswerKind.NUMBER)
    out[:, column["kind_date"]] = float(kind is AnswerKind.DATE)
    out[:, column["kind_person_place"]] = float(kind in (AnswerKind.PERSON, AnswerKind.PLACE))
    return out
