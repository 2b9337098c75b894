"""Turning scored sentences into an answer: quotes sliced from documents, or an abstention.

Every quote is `document.text[start:end]` for the sentence's stored offsets;
nothing is re-typed or matched fuzzily. Quotes with the same wording from
different documents become one quote citing all of them (`also_in`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answers.figures import find_figures
from assistant.records import Answer, AnswerStatus, Quote, SourceRef
from assistant.search.retrieval import SearchIndex

ANSWER_THRESHOLD = 0.0
"""Abstain when the evidence logit (scoring.RankerModel.evidence_logit) is below this: 0 is even odds.

The evidence model (scoring.py) is fitted by bench/eval_abstain.py from
`conflict-qa eval --details` runs."""
EXTRA_QUOTE_MARGIN = 8.0
"""A second or third quote must rank within this many log-odds of the first.

On the even (tuning) articles of SQuAD v1.1 dev: margin 3 gives 2.0 quotes per
answer and hit@3 0.904, margin 5 gives 2.6 and 0.912, margin 8 gives 2.95 and
0.914 (as many as no margin); it drops only quotes far less likely than the first."""
MAX_QUOTES = 3
NEAREST_QUOTES = 2
"""Closest sentences shown, labelled as not answering, when the answer abstains."""
DUPLICATE_SIMILARITY = 0.9
"""Word-set Jaccard similarity above which two quotes are the same wording."""
DUPLICATE_MAX_DAYS = 3
"""Same wording more days apart than this is kept apart: it may be another event."""
CONTEXT_CHARS = 400
SAME_STORY_TITLE_OVERLAP = 0.7
"""A further quote must come from the first quote's document or one whose title shares at least
this word-set Jaccard similarity with the first quote's title (conflict-news titles are the
portal's thread path, "Russian invasion of Ukraine > Sumy strikes"; SQuAD's the article).
Chosen on the even lines of bench/data/conflict_questions.jsonl, as the loosest value that kept
every extra quote there on the right thread (0.6: 0.94, 0.7 and above: 1.0; measured with the
shipped ranker by `conflict-qa eval ... --details`); the odd lines are the held-out check."""


@dataclass(frozen=True, kw_only=True)
class QuotePolicy:
    """How many quotes to give and when to abstain; defaults are the calibrated constants.

    The presence thresholds default to accepting everything; `QAService` takes them
    from the fitted model (`RankerModel.presence_threshold`, `extra_presence_threshold`).
    """

    answer_threshold: float = ANSWER_THRESHOLD
    presence_threshold: float = -np.inf
    extra_presence_threshold: float = -np.inf
    extra_quote_margin: float = EXTRA_QUOTE_MARGIN
    same_story_title_overlap: float = SAME_STORY_TITLE_OVERLAP
    max_quotes: int = MAX_QUOTES
    nearest_quotes: int = NEAREST_QUOTES


_WORD = re.compile(r"\w+")


def _words(text: str) -> frozenset[str]:
    return frozenset(word.casefold() for word in _WORD.findall(text))


def make_quote(index: SearchIndex, row: int, score: float) -> Quote:
    """The quote for sentence `row`: its exact slice, provenance, neighbours and figures."""
    document = index.documents[index.sentence_doc[row]]
    start, end = int(index.sentence_start[row]), int(index.sentence_end[row])
    text = document.text[start:end]
    before = after = ""
    if row > 0 and index.sentence_doc[row - 1] == index.sentence_doc[row]:
        before = document.text[int(index.sentence_start[row - 1]):start].strip()[-CONTEXT_CHARS:]
    if row + 1 < len(index.sentence_doc) and index.sentence_doc[row + 1] == index.sentence_doc[row]:
        after = document.text[end:int(index.sentence_end[row + 1])].strip()[:CONTEXT_CHARS]
    return Quote(
        text=text, doc_id=document.id, title=document.title, source=document.source,
        url=document.url, published=document.published, start=start, end=end,
        score=float(score), context_before=before, context_after=after,
        figures=find_figures(text), attribution=document.attribution, language=document.language,
    )


def _days_apart(first: str | None, second: str | None) -> int:
    if not first or not second:
        return 0
    try:
        return abs((dt.date.fromisoformat(first) - dt.date.fromisoformat(second)).days)
    except ValueError:
        return 0


def is_duplicate(first: Quote, second: Quote) -> bool:
    """Same wording (word-set Jaccard >= `DUPLICATE_SIMILARITY`) within `DUPLICATE_MAX_DAYS`."""
    if first.doc_id == second.doc_id and first.start == second.start:
        return True
    words_first, words_second = _words(first.text), _words(second.text)
    if not words_first or not words_second:
        return False
    similarity = len(words_first & words_second) / len(words_first | words_second)
    return (similarity >= DUPLICATE_SIMILARITY
            and _days_apart(first.published, second.published) <= DUPLICATE_MAX_DAYS)


def merge_duplicates(quotes: Sequence[Quote]) -> tuple[Quote, ...]:
    """Quotes in order with near-duplicates folded into the first (best) one's `also_in`."""
    merged: list[Quote] = []
    for quote in quotes:
        for position, kept in enumerate(merged):
            if is_duplicate(kept, quote):
                if quote.doc_id != kept.doc_id and all(r.doc_id != quote.doc_id for r in kept.also_in):
                    also = SourceRef(doc_id=quote.doc_id, title=quote.title, source=quote.source,
                                     url=quote.url, published=quote.published,
                                     attribution=quote.attribution)
                    merged[position] = replace(kept, also_in=(*kept.also_in, also))
                break
        else:
            merged.append(quote)
    return tuple(merged)


def order_candidates(scores: np.ndarray, preferred: np.ndarray | None = None) -> np.ndarray:
    """Candidate positions best first; `preferred` ones (e.g. the date asked about) first of all."""
    if preferred is not None and preferred.any():
        return np.lexsort((-scores, ~preferred))
    return np.argsort(-scores, kind="stable")


@dataclass(frozen=True, kw_only=True)
class Selection:
    """What `select_quotes` chose: the outcome, the quotes (numbered), or the nearest passages."""

    status: AnswerStatus
    quotes: tuple[Quote, ...] = ()
    nearest: tuple[Quote, ...] = ()
    more: bool = False
    """Whether further candidates pass the same tests beyond the `count` quotes asked for."""

    @property
    def answered(self) -> bool:
        return self.status is AnswerStatus.ANSWERED


def title_overlap(first: str, second: str) -> float:
    """Word-set Jaccard similarity of two titles (casefolded words)."""
    words_first, words_second = _words(first), _words(second)
    if not words_first or not words_second:
        return 0.0
    return len(words_first & words_second) / len(words_first | words_second)


def _nearest(index: SearchIndex, rows: np.ndarray, scores: np.ndarray, order: Sequence[int],
             count: int) -> tuple[Quote, ...]:
    quotes = merge_duplicates([make_quote(index, int(rows[i]), scores[i]) for i in order[: count * 3]])
    return quotes[:count]


def select_quotes(index: SearchIndex, rows: np.ndarray, scores: np.ndarray, *,
                  evidence: float | None = None, preferred: np.ndarray | None = None,
                  presence: np.ndarray | None = None, own_evidence: np.ndarray | None = None,
                  in_period: np.ndarray | None = None, policy: QuotePolicy = QuotePolicy(),
                  count: int | None = None) -> Selection:
    """The outcome and its quotes from candidate sentence `rows` and their ranking `scores`.

    Candidates are taken best first (`preferred` ones, e.g. from the date asked
    about, first of all). NOT_IN_CORPUS when `evidence` (default: the best score)
    is below `policy.answer_threshold`. When `in_period` is given (the question
    names a period), candidates outside it are never quoted; none inside gives
    DETAIL_MISSING. The first quote is the best candidate; DETAIL_MISSING when its
    `presence` logit is below `policy.presence_threshold`. Each further quote must,
    on its own, rank within `policy.extra_quote_margin` of the first, pass the
    evidence test with its own signals (`own_evidence` >= `policy.answer_threshold`)
    and the presence check (`presence` >= `policy.extra_presence_threshold`), and
    come from the first quote's story (its document, or a title overlapping the first
    quote's by `policy.same_story_title_overlap`), so an answer may be one quote. Up to `count`
    (default `policy.max_quotes`) distinct quotes (duplicates merged), numbered [1], [2], ...;
    `more` says whether another candidate passes the same tests (the next page of "More
    results"); when not answered, up to `policy.nearest_quotes` nearest sentences instead.
    """
    if len(rows) == 0:
        return Selection(status=AnswerStatus.NOT_IN_CORPUS)
    order = order_candidates(scores, preferred)
    if in_period is not None:
        order = np.concatenate([order[in_period[order]], order[~in_period[order]]])
    best = float(scores.max())
    if (best if evidence is None else evidence) < policy.answer_threshold:
        return Selection(status=AnswerStatus.NOT_IN_CORPUS,
                         nearest=_nearest(index, rows, scores, order, policy.nearest_quotes))
    first = int(order[0])
    detail_missing = (
        (in_period is not None and not in_period[first])
        or (presence is not None and presence[first] < policy.presence_threshold)
    )
    if detail_missing:
        return Selection(status=AnswerStatus.DETAIL_MISSING,
                         nearest=_nearest(index, rows, scores, order, policy.nearest_quotes))
    count = policy.max_quotes if count is None else max(1, count)
    lead = make_quote(index, int(rows[first]), scores[first])
    further = _further_quotes(index, rows, scores, order, lead=lead, own_evidence=own_evidence,
                              presence=presence, in_period=in_period, policy=policy)
    chosen = [lead, *itertools.islice(further, count * 3 - 1)]
    merged = merge_duplicates(chosen)
    quotes = merged[:count]
    # Another page exists when a further candidate passing the same tests says something new.
    more = len(merged) > count or any(not any(is_duplicate(kept, candidate) for kept in merged)
                                      for candidate in further)
    numbered = tuple(replace(quote, marker=number) for number, quote in enumerate(quotes, start=1))
    return Selection(status=AnswerStatus.ANSWERED, quotes=numbered, more=more)


def _further_quotes(index: SearchIndex, rows: np.ndarray, scores: np.ndarray, order: np.ndarray, *,
                    lead: Quote, own_evidence: np.ndarray | None, presence: np.ndarray | None,
                    in_period: np.ndarray | None, policy: QuotePolicy) -> Iterator[Quote]:
    """Every candidate after the first that may be quoted beside `lead`, best first: each passes,
    on its own, the period, margin, evidence, presence and same-story tests of `select_quotes`."""
    first_score = float(scores[order[0]])
    for position in order[1:]:
        if in_period is not None and not in_period[position]:
            continue
        if scores[position] < first_score - policy.extra_quote_margin:
            continue
        if own_evidence is not None and own_evidence[position] < policy.answer_threshold:
            continue
        if presence is not None and presence[position] < policy.extra_presence_threshold:
            continue
        document = index.documents[index.sentence_doc[int(rows[position])]]
        if (document.id != lead.doc_id
                and title_overlap(document.title, lead.title) < policy.same_story_title_overlap):
            continue  # decided before the quote is made: most candidates stop here
        yield make_quote(index, int(rows[position]), scores[position])


def answer_sources(quotes: Sequence[Quote]) -> tuple[SourceRef, ...]:
    """Every cited document once, in marker order (merged duplicates after their quote)."""
    refs: dict[str, SourceRef] = {}
    for quote in quotes:
        for ref in (SourceRef(doc_id=quote.doc_id, title=quote.title, source=quote.source,
                              url=quote.url, published=quote.published,
                              attribution=quote.attribution), *quote.also_in):
            refs.setdefault(ref.doc_id, ref)
    return tuple(refs.values())


def build_answer(question: str, selection: Selection, elapsed_ms: float) -> Answer:
    """The `Answer` record of a `Selection`; sources follow from the quotes."""
    answered = selection.answered
    return Answer(question=question, answered=answered, quotes=selection.quotes if answered else (),
                  nearest=() if answered else selection.nearest,
                  sources=answer_sources(selection.quotes if answered else ()),
                  elapsed_ms=elapsed_ms, status=selection.status, more=answered and selection.more)


def too_vague_answer(question: str, elapsed_ms: float) -> Answer:
    """The reply to a question that names nothing to look for: no quotes, a request to be specific."""
    return Answer(question=question, answered=False, elapsed_ms=elapsed_ms, status=AnswerStatus.TOO_VAGUE)
