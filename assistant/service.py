"""The question-answering service: one loaded model and index, asked many times.

`QAService` checks a question, embeds it, retrieves and ranks sentences, and
returns an `Answer`. It is safe to call from many threads. Each `ask` checks
the index's version pointer (one small file read); when a rebuild has switched
it, the new index is loaded by that call and swapped in only once loaded, so no
request sees a half-loaded index. A new version that cannot be loaded (damaged,
partial, unreadable pointer) leaves the last good one answering: the service
says so once in the log and in `health()` ("degraded" with the reason) and tries
again at most every RELOAD_RETRY_SECONDS.

Questions asked at the same time from several threads are embedded together
(`EmbeddingBatcher`): one model call for the batch instead of one per question.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answers.answer import QuotePolicy, build_answer, select_quotes, too_vague_answer
from assistant.answers.coded_events import attach_events
from assistant.answers.events import latest_first
from assistant.ingest.dates import parse_date_bound, question_dates
from assistant.ingest.outlets import Credit, credits_from_counts
from assistant.search.questions import QuestionError, answer_kind, clean_question, content_terms, is_too_vague
from assistant.search.ranking import Ranking, default_model, names_period, rank_sentences
from assistant.records import Answer, Document, Quote, QuoteOrder
from assistant.search.retrieval import SearchFilters, SearchIndex, prepare
from assistant.search.scoring import RankerModel
from assistant.settings import Settings

__all__ = ["QAService", "QuestionError", "AskDetails", "make_filters", "Dropped", "cancel_scope",
           "UnsupportedLanguage"]

logger = logging.getLogger(__name__)

RELOAD_RETRY_SECONDS = 5.0
"""After a failed load of a new index version, the next try waits this long (not every request)."""

EMBED_BATCH_SIZE = 32
"""Most questions embedded in one model call."""

EMBED_WAIT_SECONDS = 0.004
"""How long the batcher waits for more questions while other asks are in flight; a lone
question never waits."""

QUERY_TORCH_THREADS = 1
"""A question is one short sequence: on the 2-core machine, one thread embedded it in
44 ms while other processes were busy, two threads in 430 ms (OpenMP workers spin
waiting for a core); idle, the two differ by a few milliseconds. The same count is
applied to the BLAS and OpenMP pools numpy and FAISS use (threadpoolctl): with
their default pools, 8 threads asking at once answered 10.2 questions/s against
6.2 from one (load average 18); with one thread each, 21.6 against 8.3."""


@dataclass(frozen=True, kw_only=True)
class _Loaded:
    version: str | None
    loaded: Any
    search: SearchIndex
    by_id: Mapping[str, Document]
    """Documents by id, read from the index when asked for."""
    credits: tuple[Credit, ...]
    covered_languages: frozenset[str] | None = None


@dataclass(frozen=True, kw_only=True)
class AskDetails:
    """An answer with what produced it (for evaluation): the ranking and the timings."""

    answer: Answer
    ranking: Ranking | None
    query_vector: np.ndarray
    sentence_bm25: np.ndarray
    embed_ms: float


MAX_DATE_ECHO = 40
"""Longest date text repeated in an error message."""

MAX_PAGES = 10
"""Pages of quotes one question can have ("More results"): 10 pages of 3 quotes. Ordering by
date chooses among at most this many quotes (MAX_PAGES x QuotePolicy.max_quotes)."""


def read_page(value: object) -> int:
    """A page number from user input (1 to MAX_PAGES); `QuestionError` otherwise."""
    try:
        page = int(str(value).strip()) if value is not None and str(value).strip() else 1
    except ValueError:
        page = 0
    if not 1 <= page <= MAX_PAGES:
        raise QuestionError(f"page must be a whole number from 1 to {MAX_PAGES}")
    return page


def read_order(value: object) -> QuoteOrder:
    """A quote order from user input ('relevance', 'date', 'date-asc'); `QuestionError` otherwise."""
    if isinstance(value, QuoteOrder):
        return value
    text = str(value or "").strip().lower() or QuoteOrder.RELEVANCE.value
    try:
        return QuoteOrder(text)
    except ValueError:
        names = ", ".join(f"'{order.value}'" for order in QuoteOrder)
        raise QuestionError(f"sort must be one of {names}") from None


def by_date(quotes: Sequence[Quote], *, newest_first: bool) -> list[Quote]:
    """The quotes by publication date (ties keep their relevance order); undated quotes last."""
    dated = sorted((quote for quote in quotes if quote.published), key=lambda quote: quote.published or "",
                   reverse=newest_first)  # stable in both directions
    return dated + [quote for quote in quotes if not quote.published]


class UnsupportedLanguage(QuestionError):
    """The question is in a language the index's embedding model does not cover; the message
    names the language and what to do (shown instead of an answer, never as "not answered")."""


def _covered_languages(manifest: Any) -> frozenset[str] | None:
    """What the manifest records (older indexes: what is known of the model by name)."""
    from assistant.ingest.languages import model_languages, parse_languages

    if manifest.model_languages:
        return parse_languages(manifest.model_languages)
    return model_languages(manifest.model)


def _as_date(value: dt.date | str | None, *, end: bool) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_DATE_ECHO:
        # A date is at most 10 characters; a long value is not echoed back whole.
        text_shown = text[:MAX_DATE_ECHO] + "…"
        raise QuestionError(f"cannot read date '{text_shown}': use YYYY-MM-DD, YYYY-MM or YYYY")
    try:
        return parse_date_bound(text, end=end)
    except ValueError as error:
        raise QuestionError(str(error)) from None


def make_filters(sources: Sequence[str] = (), since: dt.date | str | None = None,
                 until: dt.date | str | None = None, *, countries: Sequence[str] = (),
                 event_since: dt.date | str | None = None,
                 event_until: dt.date | str | None = None) -> SearchFilters:
    """Filters from user values; raises `QuestionError` for an unreadable date or reversed range."""
    if isinstance(sources, str):
        sources = (sources,)
    cleaned = tuple(str(source).strip() for source in sources if str(source).strip())
    since_date, until_date = _as_date(since, end=False), _as_date(until, end=True)
    if since_date and until_date and since_date > until_date:
        raise QuestionError(f"The start date {since_date} is after the end date {until_date}.")
    event_since_date, event_until_date = _as_date(event_since, end=False), _as_date(event_until, end=True)
    if event_since_date and event_until_date and event_since_date > event_until_date:
        raise QuestionError(f"The event start date {event_since_date} is after the event end date {event_until_date}.")
    return SearchFilters(sources=cleaned, since=since_date, until=until_date,
                         countries=tuple(c.strip() for c in countries if c.strip()),
                         event_since=event_since_date, event_until=event_until_date)


class Dropped(Exception):
    """The question was dropped before it was answered: its caller gave up (deadline, disconnect)."""


_scope = threading.local()


class cancel_scope:
    """`with cancel_scope(event):` asks made in this thread are dropped (raise `Dropped`) at the
    next checkpoint once `event` is set: before embedding and before ranking."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __enter__(self) -> threading.Event:
        _scope.event = self.event
        return self.event

    def __exit__(self, *exc_info: object) -> None:
        _scope.event = None


def _check_cancelled() -> None:
    event = getattr(_scope, "event", None)
    if event is not None and event.is_set():
        raise Dropped("the caller gave up")


class EmbeddingBatcher:
    """Embeds questions from many threads in batches, on one worker thread.

    `embed(text)` queues the text and waits for its vector. The worker takes the
    first waiting text, then gathers more: everything already queued, plus, while
    other asks are in flight (`in_flight()`), whatever arrives within `wait_s`, up
    to `max_batch`. Texts whose caller gave up (`cancel_scope`) are skipped.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], *, in_flight: Callable[[], int],
                 max_batch: int = EMBED_BATCH_SIZE, wait_s: float = EMBED_WAIT_SECONDS) -> None:
        self._encode = encode
        self._in_flight = in_flight
        self._max_batch = max_batch
        self._wait_s = wait_s
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0
        self.embedded = 0

    def embed(self, text: str) -> np.ndarray:
        self._ensure_worker()
        job = {"text": text, "done": threading.Event(), "vector": None, "error": None,
               "cancel": getattr(_scope, "event", None)}
        self._queue.put(job)
        job["done"].wait()
        if job["error"] is not None:
            raise job["error"]
        return job["vector"]

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="embedding-batcher", daemon=True)
                self._worker.start()

    def _gather(self) -> list[dict]:
        batch = [self._queue.get()]
        deadline = time.monotonic() + self._wait_s
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._in_flight() <= len(batch):
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while True:
            batch = self._gather()
            live = []
            for job in batch:
                if job["cancel"] is not None and job["cancel"].is_set():
                    job["error"] = Dropped("the caller gave up")
                    job["done"].set()
                else:
                    live.append(job)
            if not live:
                continue
            try:
                vectors = self._encode([job["text"] for job in live])
            except Exception as error:  # noqa: BLE001 - handed to each waiting caller
                for job in live:
                    job["error"] = error
                    job["done"].set()
                continue
            self.batches += 1
            self.embedded += len(live)
            for job, vector in zip(live, vectors):
                job["vector"] = vector
                job["done"].set()


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
            import faiss
            from threadpoolctl import threadpool_limits

            from assistant.index.embedding import limit_torch_threads

            limit_torch_threads(torch_threads)  # torch is loaded only when questions are embedded with it
            # Concurrency comes from answering several questions at once, not from
            # splitting one small matrix product over spinning BLAS/OpenMP workers.
            threadpool_limits(torch_threads)
            faiss.omp_set_num_threads(torch_threads)
        # The presence thresholds travel with the fitted presence model unless the caller set them.
        if policy.presence_threshold == -np.inf and self.ranker.presence_names:
            policy = replace(policy, presence_threshold=self.ranker.presence_threshold,
                             extra_presence_threshold=self.ranker.extra_presence_threshold)
        self.policy = policy
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._problem: str | None = None
        self._next_retry = 0.0
        self._state = self._load()
        if embedder is None:
            from assistant.index.onnx_embedding import load_query_embedder

            embedder = load_query_embedder(settings.model, index_dir=settings.index_dir, threads=torch_threads)
        self._embedder = embedder
        self._in_flight = 0
        self._batcher = EmbeddingBatcher(lambda texts: self._embedder.encode(texts),
                                         in_flight=lambda: self._in_flight)

    def _load(self) -> _Loaded:
        from assistant.index.store import IndexUnavailable, current_version, load_index

        index_dir = Path(self.settings.index_dir)
        version = current_version(index_dir)
        loaded = load_index(index_dir)
        if loaded.manifest.model != self.settings.model:
            raise IndexUnavailable(
                f"index in {index_dir} was built with model '{loaded.manifest.model}', "
                f"not '{self.settings.model}': rebuild it or pass the same --model"
            )
        covered = _covered_languages(loaded.manifest)
        if covered is not None:
            from assistant.ingest.languages import warm_up

            warm_up()  # the detector loads in about 3 s: not while the first question waits
        return _Loaded(version=version, loaded=loaded, search=prepare(loaded),
                       by_id=loaded.documents.by_id,
                       credits=credits_from_counts(loaded.credit_counts),
                       covered_languages=covered)

    def _current(self) -> _Loaded:
        """The live index, reloading first if a rebuild switched the version pointer.

        A pointer or version that cannot be loaded keeps the last good index answering
        (`health()` says "degraded"); the load is tried again at most every
        RELOAD_RETRY_SECONDS, by one thread while the others answer from the old index.
        """
        from assistant.index.store import IndexUnavailable, current_version

        state = self._state
        try:
            version = current_version(Path(self.settings.index_dir))
        except IndexUnavailable as error:
            self._degrade(str(error))
            return state
        if version == state.version:
            if self._problem is not None:
                self._recover(state)
            return state
        if self._problem is not None and time.monotonic() < self._next_retry:
            return state
        # One thread reloads; the others keep answering from the old index meanwhile.
        if not self._reload_lock.acquire(blocking=False):
            return state
        try:
            fresh = self._load()
        except IndexUnavailable as error:
            self._degrade(str(error))
            return state  # a half-written or broken rebuild: keep serving the last good index
        except Exception as error:  # noqa: BLE001 - whatever the damage, the old index keeps answering
            self._degrade(f"index in {self.settings.index_dir} could not be loaded ({type(error).__name__}: "
                          f"{' '.join(str(error).split())[:200]})")
            return state
        finally:
            self._reload_lock.release()
        with self._lock:
            self._state = fresh
        self._recover(fresh)
        return fresh

    def _degrade(self, reason: str) -> None:
        with self._lock:
            self._next_retry = time.monotonic() + RELOAD_RETRY_SECONDS
            if reason == self._problem:
                return
            self._problem = reason
        logger.warning("serving the last good index (%s) because: %s", self._state.version, reason)

    def _recover(self, state: _Loaded) -> None:
        with self._lock:
            if self._problem is None:
                return
            self._problem = None
        logger.warning("index version %s loaded; the service is healthy again", state.version)

    def _check_language(self, question: str, state: _Loaded) -> None:
        from assistant.ingest.languages import language_advice, uncovered_question_language

        language = uncovered_question_language(question, state.covered_languages)
        if language is not None:
            raise UnsupportedLanguage(language_advice(language, state.loaded.manifest.model))

    def _embed(self, text: str) -> np.ndarray:
        # One worker thread runs the model over every question waiting at the time: the
        # batch costs little more than one question, and requests do not fight over cores.
        return self._batcher.embed(text)

    def ask_details(self, question: object, *, sources: Sequence[str] = (),
                    since: dt.date | str | None = None, until: dt.date | str | None = None,
                    page: int | str = 1, order: QuoteOrder | str = QuoteOrder.RELEVANCE,
                    **event_filters: Any) -> AskDetails:
        """`ask`, also returning the ranking behind the answer and the embedding time."""
        from assistant.index.store import bm25_tokens

        started = time.perf_counter()
        text = clean_question(question)
        page, order = read_page(page), read_order(order)
        filters = make_filters(sources, since, until, **event_filters)
        state = self._current()
        self._check_language(text, state)
        tokens = content_terms(bm25_tokens([text])[0])
        dates = question_dates(text)
        if is_too_vague(text, tokens, named_dates=len(dates)):
            answer = too_vague_answer(text, (time.perf_counter() - started) * 1000)
            return AskDetails(answer=answer, ranking=None, query_vector=np.zeros(0),
                              sentence_bm25=np.zeros(0), embed_ms=0.0)
        _check_cancelled()
        embed_started = time.perf_counter()
        with self._lock:
            self._in_flight += 1
        try:
            query_vector = self._embed(text)
        finally:
            with self._lock:
                self._in_flight -= 1
        embed_ms = (time.perf_counter() - embed_started) * 1000
        _check_cancelled()
        ranges = tuple((found.start, found.end) for found in dates)
        ranking = rank_sentences(
            state.search, question=text, kind=answer_kind(text), query_vector=query_vector,
            query_tokens=tokens, filters=filters, date_ranges=ranges, model=self.ranker,
        )
        # A period named in a question over dated reports bounds every quote; an
        # undated corpus (an encyclopedia) cannot tell, so there the dates only rank.
        dated = bool((state.search.doc_day >= 0).any())
        # Within the period: reports from it about what is asked (`ranking.preferred`), or
        # sentences that name a date in it (a 2025 report on a strike in January 2020).
        in_period = None
        if ranges and dated:
            in_period = ranking.preferred | np.array(
                [names_period(state.search.sentence_text(int(row)), ranges) for row in ranking.candidates.rows],
                dtype=bool)
        per_page = self.policy.max_quotes
        selection = select_quotes(
            state.search, ranking.candidates.rows, ranking.scores, evidence=ranking.evidence,
            preferred=ranking.preferred, presence=ranking.presence, own_evidence=ranking.own_evidence,
            in_period=in_period, policy=self.policy,
            count=page * per_page if order is QuoteOrder.RELEVANCE else MAX_PAGES * per_page,
        )
        selection = replace(selection, **self._page_of(text, selection.quotes, selection.more, page, order))
        elapsed_ms = (time.perf_counter() - started) * 1000
        answer = attach_events(build_answer(text, selection, elapsed_ms), state.by_id)
        answer = replace(answer, page=page, order=order)
        return AskDetails(answer=answer, ranking=ranking, query_vector=query_vector,
                          sentence_bm25=ranking.sentence_bm25, embed_ms=embed_ms)

    def _page_of(self, question: str, quotes: Sequence[Quote], more: bool, page: int,
                 order: QuoteOrder) -> dict[str, Any]:
        """The quotes of page `page` in `order`, numbered on from the earlier pages, and `more`.

        By relevance, `quotes` holds pages 1 to `page`; a question asking for the latest
        ("so far", "since") shows each page newest first. By date, `quotes` holds every
        quote that may be shown (MAX_PAGES pages at most), ordered before the page is cut.
        """
        per_page = self.policy.max_quotes
        start = (page - 1) * per_page
        if order is QuoteOrder.RELEVANCE:
            shown = latest_first(question, quotes[start:])
        else:
            ordered = by_date(quotes, newest_first=order is QuoteOrder.NEWEST)
            shown, more = tuple(ordered[start:start + per_page]), len(ordered) > start + per_page
        numbered = tuple(replace(quote, marker=number) for number, quote in enumerate(shown, start=start + 1))
        return {"quotes": numbered, "more": more and bool(numbered) and page < MAX_PAGES}

    def ask(self, question: object, *, sources: Sequence[str] = (),
            since: dt.date | str | None = None, until: dt.date | str | None = None,
            page: int | str = 1, order: QuoteOrder | str = QuoteOrder.RELEVANCE,
            **event_filters: Any) -> Answer:
        """Quotes answering `question`, or an abstention; `QuestionError` for bad input.

        `sources` keeps documents from any of these outlets; `since`/`until` are
        dates or text (YYYY-MM-DD, YYYY-MM, YYYY), both ends included. `page` (1 to
        MAX_PAGES) gives the next quotes for the same question ("More results"; an empty
        page when all were shown); `order` sorts them by relevance or by publication date
        (`records.QuoteOrder`). `event_filters`: `countries`, `event_since`, `event_until`
        (see `make_filters`).
        """
        return self.ask_details(question, sources=sources, since=since, until=until, page=page,
                                order=order, **event_filters).answer

    @property
    def search_index(self) -> SearchIndex:
        return self._current().search

    def sources(self) -> list[str]:
        """Every outlet in the index, each once, sorted: publishers and cited outlets, names
        normalised ("Reuters; AP" and "AFP via Al Arabiya" each count as two)."""
        return list(self._current().search.outlets)

    def credits(self) -> tuple[Credit, ...]:
        """The publishers of the loaded index with their licenses and document counts."""
        return self._current().credits

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
        problem = {"status": "degraded", "reason": self._problem} if self._problem else {"status": "ok"}
        return {**problem, "index_version": state.version, "model": manifest.model,
                "documents": manifest.documents, "chunks": manifest.chunks,
                "sentences": manifest.sentences, "outlets": len(state.search.outlets)}
