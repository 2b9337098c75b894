"""The question-answering service: one loaded model and index, asked many times.

`QAService` checks a question, embeds it, retrieves and ranks sentences, and
returns an `Answer`. It is safe to call from many threads. Each `ask` checks
the index's version pointer (one small file read); when a rebuild has switched
it, the new index is loaded in the background of that call and swapped in only
once loaded, so no request sees a half-loaded index.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answers.answer import QuotePolicy, build_answer, select_quotes
from assistant.ingest.dates import parse_date_bound, question_dates
from assistant.search.questions import QuestionError, answer_kind, clean_question, content_terms
from assistant.search.ranking import Ranking, default_model, rank_sentences
from assistant.records import Answer, Document
from assistant.search.retrieval import SearchFilters, SearchIndex, prepare
from assistant.search.scoring import RankerModel
from assistant.settings import Settings

__all__ = ["QAService", "QuestionError", "AskDetails", "make_filters"]

QUERY_TORCH_THREADS = 1
"""A question is one short sequence: on the 2-core machine, one thread embedded it in
44 ms while other processes were busy, two threads in 430 ms (OpenMP workers spin
waiting for a core); idle, the two differ by a few milliseconds."""


@dataclass(frozen=True, kw_only=True)
class _Loaded:
    version: str | None
    loaded: Any
    search: SearchIndex
    by_id: dict[str, Document]


@dataclass(frozen=True, kw_only=True)
class AskDetails:
    """An answer with what produced it (for evaluation): the ranking and the timings."""

    answer: Answer
    ranking: Ranking
    query_vector: np.ndarray
    sentence_bm25: np.ndarray
    embed_ms: float


def _as_date(value: dt.date | str | None, *, end: bool) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return parse_date_bound(text, end=end)
    except ValueError as error:
        raise QuestionError(str(error)) from None


def make_filters(sources: Sequence[str] = (), since: dt.date | str | None = None,
                 until: dt.date | str | None = None) -> SearchFilters:
    """Filters from user values; raises `QuestionError` for an unreadable date or reversed range."""
    if isinstance(sources, str):
        sources = (sources,)
    cleaned = tuple(str(source).strip() for source in sources if str(source).strip())
    since_date, until_date = _as_date(since, end=False), _as_date(until, end=True)
    if since_date and until_date and since_date > until_date:
        raise QuestionError(f"--since {since_date} is after --until {until_date}")
    return SearchFilters(sources=cleaned, since=since_date, until=until_date)


class QAService:
    """Answers questions from the index in `settings.index_dir` with `settings.model`.

    The index loads on construction (raising `index.IndexUnavailable` with a one-line
    message when it is missing, damaged, or built by another model); the model
    loads with it unless `embedder` is given.

    `torch_threads` (default `QUERY_TORCH_THREADS`) sets PyTorch's thread count
    for the process; None leaves it alone. `ranker` replaces the shipped sentence
    ranker (`scoring.py`), e.g. while fitting a new one.
    """

    def __init__(self, settings: Settings, *, embedder: Any = None,
                 policy: QuotePolicy = QuotePolicy(),
                 torch_threads: int | None = QUERY_TORCH_THREADS,
                 ranker: RankerModel | None = None) -> None:
        self.settings = settings
        self.ranker = ranker or default_model()
        if torch_threads is not None:
            import torch

            torch.set_num_threads(torch_threads)
        self.policy = policy
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._state = self._load()
        if embedder is None:
            from assistant.index.embedding import load_embedder

            embedder = load_embedder(settings.model)
        self._embedder = embedder
        self._embed_lock = threading.Lock()

    def _load(self) -> _Loaded:
        from assistant.index.store import IndexUnavailable, bm25_tokens, current_version, load_index

        index_dir = Path(self.settings.index_dir)
        version = current_version(index_dir)
        loaded = load_index(index_dir)
        if loaded.manifest.model != self.settings.model:
            raise IndexUnavailable(
                f"index in {index_dir} was built with model '{loaded.manifest.model}', "
                f"not '{self.settings.model}': rebuild it or pass the same --model"
            )
        return _Loaded(version=version, loaded=loaded, search=prepare(loaded, bm25_tokens),
                       by_id={document.id: document for document in loaded.documents})

    def _current(self) -> _Loaded:
        """The live index, reloading first if a rebuild switched the version pointer."""
        from assistant.index.store import IndexUnavailable, current_version

        state = self._state
        if current_version(Path(self.settings.index_dir)) == state.version:
            return state
        # One thread reloads; the others keep answering from the old index meanwhile.
        if not self._reload_lock.acquire(blocking=False):
            return state
        try:
            fresh = self._load()
        except IndexUnavailable:
            return state  # a half-written or broken rebuild: keep serving the last good index
        finally:
            self._reload_lock.release()
        with self._lock:
            self._state = fresh
        return fresh

    def _embed(self, text: str) -> np.ndarray:
        # PyTorch inference is thread-safe, but serialising keeps two requests
        # from fighting over the same two cores.
        with self._embed_lock:
            return self._embedder.encode([text])[0]

    def ask_details(self, question: object, *, sources: Sequence[str] = (),
                    since: dt.date | str | None = None, until: dt.date | str | None = None,
                    ) -> AskDetails:
        """`ask`, also returning the ranking behind the answer and the embedding time."""
        from assistant.index.store import bm25_tokens

        started = time.perf_counter()
        text = clean_question(question)
        filters = make_filters(sources, since, until)
        state = self._current()
        embed_started = time.perf_counter()
        query_vector = self._embed(text)
        embed_ms = (time.perf_counter() - embed_started) * 1000
        tokens = content_terms(bm25_tokens([text])[0])
        ranges = tuple((found.start, found.end) for found in question_dates(text))
        ranking = rank_sentences(
            state.search, question=text, kind=answer_kind(text), query_vector=query_vector,
            query_tokens=tokens, filters=filters, date_ranges=ranges, model=self.ranker,
        )
        answered, quotes, nearest = select_quotes(
            state.search, ranking.candidates.rows, ranking.scores, evidence=ranking.evidence,
            preferred=ranking.preferred, policy=self.policy,
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        answer = build_answer(text, answered, quotes, nearest, elapsed_ms)
        return AskDetails(answer=answer, ranking=ranking, query_vector=query_vector,
                          sentence_bm25=ranking.sentence_bm25, embed_ms=embed_ms)

    def ask(self, question: object, *, sources: Sequence[str] = (),
            since: dt.date | str | None = None, until: dt.date | str | None = None) -> Answer:
        """Quotes answering `question`, or an abstention; `QuestionError` for bad input.

        `sources` keeps documents from any of these outlets; `since`/`until` are
        dates or text (YYYY-MM-DD, YYYY-MM, YYYY), both ends included.
        """
        return self.ask_details(question, sources=sources, since=since, until=until).answer

    @property
    def search_index(self) -> SearchIndex:
        return self._current().search

    def sources(self) -> list[str]:
        """Every outlet in the index, each once ("Reuters; AP" counts as two), sorted."""
        return list(self._current().search.outlets)

    def document(self, doc_id: str) -> Document | None:
        """The stored document with this id, or None."""
        return self._current().by_id.get(doc_id)

    def index_manifest(self) -> Any:
        """The live index's manifest (counts, model, `created` build time)."""
        return self._current().loaded.manifest

    def health(self) -> dict[str, Any]:
        """Index version, model and counts, for a health endpoint."""
        state = self._current()
        manifest = state.loaded.manifest
        return {"status": "ok", "index_version": state.version, "model": manifest.model,
                "documents": manifest.documents, "chunks": manifest.chunks,
                "sentences": manifest.sentences, "outlets": len(state.search.outlets)}
