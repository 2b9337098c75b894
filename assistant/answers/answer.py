"""Turning scored sentences into an answer: quotes sliced from documents, or an abstention.

Every quote is `document.text[start:end]` for the sentence's stored offsets;
nothing is re-typed or matched fuzzily. Quotes with the same wording from
different documents become one quote citing all of them (`also_in`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.answers.figures import find_figures
from assistant.records import Answer, Quote, SourceRef
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


@dataclass(frozen=True, kw_only=True)
class QuotePolicy:
    """How many quotes to give and when to abstain; defaults are the calibrated constants."""

    answer_threshold: float = ANSWER_THRESHOLD
    extra_quote_margin: float = EXTRA_QUOTE_MARGIN
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
        figures=find_figures(text), language=document.language,
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
                                     url=quote.url, published=quote.published)
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


def select_quotes(index: SearchIndex, rows: np.ndarray, scores: np.ndarray, *,
                  evidence: float | None = None, preferred: np.ndarray | None = None,
                  policy: QuotePolicy = QuotePolicy(),
                  ) -> tuple[bool, tuple[Quote, ...], tuple[Quote, ...]]:
    """(answered, quotes, nearest) from candidate sentence rows and their scores.

    `scores` order the candidates (`preferred` ones first); `evidence` (default:
    the best score) decides: answered when it reaches `policy.answer_threshold`. Then up to `policy.max_quotes` distinct quotes
    (after merging duplicates) within `policy.extra_quote_margin` of the best
    score, numbered [1], [2], ... Otherwise no quotes, and up to
    `policy.nearest_quotes` nearest sentences.
    """
    if len(rows) == 0:
        return False, (), ()
    order = order_candidates(scores, preferred)
    best = float(scores.max())
    if (float(scores.max()) if evidence is None else evidence) < policy.answer_threshold:
        nearest = merge_duplicates([make_quote(index, int(rows[i]), scores[i])
                                    for i in order[: policy.nearest_quotes * 3]])
        return False, (), nearest[: policy.nearest_quotes]
    chosen: list[Quote] = []
    for position in order:
        if len(chosen) >= policy.max_quotes * 3:
            break
        if chosen and scores[position] < best - policy.extra_quote_margin:
            continue
        chosen.append(make_quote(index, int(rows[position]), scores[position]))
    quotes = merge_duplicates(chosen)[: policy.max_quotes]
    numbered = tuple(replace(quote, marker=number) for number, quote in enumerate(quotes, start=1))
    return True, numbered, ()


def answer_sources(quotes: Sequence[Quote]) -> tuple[SourceRef, ...]:
    """Every cited document once, in marker order (merged duplicates after their quote)."""
    refs: dict[str, SourceRef] = {}
    for quote in quotes:
        for ref in (SourceRef(doc_id=quote.doc_id, title=quote.title, source=quote.source,
                              url=quote.url, published=quote.published), *quote.also_in):
            refs.setdefault(ref.doc_id, ref)
    return tuple(refs.values())


def build_answer(question: str, answered: bool, quotes: tuple[Quote, ...],
                 nearest: tuple[Quote, ...], elapsed_ms: float) -> Answer:
    """The `Answer` record; sources follow from the quotes."""
    return Answer(question=question, answered=answered, quotes=quotes if answered else (),
                  nearest=() if answered else nearest, sources=answer_sources(quotes),
                  elapsed_ms=elapsed_ms)
