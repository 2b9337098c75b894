"""The chat's first screen and links: what the archive holds, checked example questions, permalinks.

`first_screen` gives the overview at once and asks the service, in a background thread
(once per index build, kept on disk), which candidate example questions it answers; `permalink` and `permalink_fields`
turn a question and its filters into `/?q=...&sources=...&since=...&until=...`
and back. Only the Gradio wiring in ui.py calls these.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from assistant.web.startup import pending
from assistant.web.overview import archive_overview, example_candidates, pick_examples, render_overview

if TYPE_CHECKING:
    from assistant.service import QAService

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class FirstScreen:
    """The empty chat: the overview HTML and the example questions the index answers."""

    overview_html: str
    examples: tuple[str, ...]


EXAMPLES_FILE = "checked-examples.json"
"""File in the index folder keeping the example questions checked for one index build and ranker,
so a later start shows them at once instead of asking them again before serving."""

_cache: dict[tuple[int, str], FirstScreen] = {}
_checking: dict[tuple[int, str], threading.Event] = {}
_cache_lock = threading.Lock()


def _screen_key(service: QAService) -> str:
    """What the checked examples depend on: the index build (version, counts, pending rest) and the
    ranker that decides which questions are answered."""
    import hashlib

    from assistant.index.store import current_version
    from assistant.search import ranking

    manifest = service.index_manifest()
    ranker = Path(ranking.__file__).with_name("ranker.json")
    ranker_hash = hashlib.sha256(ranker.read_bytes()).hexdigest()[:16] if ranker.is_file() else "-"
    try:
        version = current_version(Path(service.settings.index_dir))
    except Exception:  # noqa: BLE001 - a damaged pointer: the service keeps its last good index
        version = None
    return (f"{version}/{manifest.created}/{manifest.documents}/{manifest.sentences}/"
            f"{pending(service.settings.index_dir)}/{ranker_hash}/{getattr(service, 'policy', None)!r}")


def _stored_examples(index_dir: Path, key: str) -> tuple[str, ...] | None:
    try:
        stored = json.loads((Path(index_dir) / EXAMPLES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    examples = stored.get("examples") if isinstance(stored, dict) and stored.get("key") == key else None
    if not isinstance(examples, list) or not all(isinstance(item, str) for item in examples):
        return None
    return tuple(examples)


def _store_examples(index_dir: Path, key: str, examples: Sequence[str]) -> None:
    from assistant.storage import replace_file

    try:
        replace_file(Path(index_dir) / EXAMPLES_FILE,
                     json.dumps({"key": key, "examples": list(examples)}, ensure_ascii=False, indent=1))
    except OSError as error:  # a read-only index folder: the examples are checked again next start
        logger.warning("could not keep the checked example questions: %s", error)


def first_screen(service: QAService, *, wait: bool = False, wait_s: float = 0.0) -> FirstScreen:
    """The overview of the live index and its checked example questions (cached per index build).

    The examples are asked through the service once per index build and ranker, in a
    background thread, and kept in the index folder (EXAMPLES_FILE): the server does not wait
    for them, and a later start reads them back at once. Until they are checked the screen has
    no examples (the page asks again when it loads); `wait` checks them in this thread, `wait_s`
    waits that long for a check under way (a page load, so a fresh page shows them).
    """
    key = (id(service), _screen_key(service))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    index_dir = Path(service.settings.index_dir)
    documents = service.search_index.documents
    overview = archive_overview(documents, outlets=len(service.sources()), updated=service.index_manifest().created)
    still = ('<p class="cqa-pending">Still indexing: more reports are being added in the background; '
             "reload the page in a few minutes for the whole archive.</p>" if pending(index_dir) else "")
    overview_html = render_overview(overview) + still

    def check() -> FirstScreen:
        try:
            examples = pick_examples(example_candidates(documents), lambda question: _answered(service, question))
            _store_examples(index_dir, key[1], examples)
            screen = FirstScreen(overview_html=overview_html, examples=examples)
            with _cache_lock:
                _cache[key] = screen
            return screen
        finally:  # a failed check is tried again by the next page load
            with _cache_lock:
                done = _checking.pop(key, None)
            if done is not None:
                done.set()

    stored = _stored_examples(index_dir, key[1])
    if stored is not None:
        screen = FirstScreen(overview_html=overview_html, examples=stored)
        with _cache_lock:
            _cache[key] = screen
        return screen
    if wait:
        return check()
    with _cache_lock:
        start = key not in _checking
        done = _checking.setdefault(key, threading.Event())
    if start:
        threading.Thread(target=_checked_quietly, args=(check,), name="check-examples", daemon=True).start()
    if wait_s > 0 and done.wait(wait_s):
        with _cache_lock:
            if key in _cache:
                return _cache[key]
    return FirstScreen(overview_html=overview_html, examples=())


def _checked_quietly(check) -> None:
    try:
        check()
    except Exception:  # noqa: BLE001 - the page simply shows no examples; the log says why
        logger.exception("checking the example questions failed")


def _answered(service: QAService, question: str) -> bool:
    from assistant.service import QuestionError

    try:
        return service.ask(question).answered
    except QuestionError:
        return False


@dataclass(frozen=True, kw_only=True)
class AskedWith:
    """A question and the filters it was asked with (what a permalink carries)."""

    question: str
    sources: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    page: int = 1
    """The page of quotes ("More results"); 0 stands for an unreadable page, refused when asked."""
    sort: str = "relevance"
    """`records.QuoteOrder` value: relevance, date (newest first), date-asc (oldest first)."""


def permalink(asked: AskedWith, *, base: str = "/") -> str:
    """`base?q=...&sources=...&since=...&until=...&sort=...&page=...`: opens the chat with this
    question asked (sort and page only when not the default)."""
    pairs = [("q", asked.question), *(("sources", source) for source in asked.sources)]
    pairs += [(name, value) for name, value in (("since", asked.since), ("until", asked.until)) if value]
    if asked.sort != "relevance":
        pairs.append(("sort", asked.sort))
    if asked.page != 1:
        pairs.append(("page", str(asked.page)))
    return f"{base}?{urlencode(pairs)}"


def permalink_fields(query: Sequence[tuple[str, str]]) -> AskedWith | None:
    """The question and filters of a permalink's query pairs; None when there is no `q`."""
    values: dict[str, list[str]] = {}
    for name, value in query:
        values.setdefault(name, []).append(value)
    question = (values.get("q") or [""])[0].strip()
    if not question:
        return None
    sources = tuple(dict.fromkeys(s.strip() for s in values.get("sources", []) if s.strip()))
    first = lambda name: ((values.get(name) or [""])[0].strip() or None)  # noqa: E731
    page_text = first("page") or "1"
    page = int(page_text) if page_text.isdigit() and len(page_text) <= 3 else 0
    return AskedWith(question=question, sources=sources, since=first("since"), until=first("until"),
                     page=page, sort=(first("sort") or "relevance").lower())


def _href(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def export_query(asked: AskedWith) -> str:
    """The permalink's query string alone (what /export.md and /export.csv read)."""
    return permalink(asked, base="").lstrip("?")


SORT_LABELS = (("relevance", "Most relevant"), ("date", "Newest first"), ("date-asc", "Oldest first"))
"""The order controls under an answer: `records.QuoteOrder` value and the words shown."""


def answer_tools(asked: AskedWith, *, answered: bool = False, more: bool = False, shown: int = 0) -> str:
    """The links under an answer: copy as text, permalink, Markdown and CSV export; for an answered
    question also "More results" (the next page, only when `more`; otherwise a plain line saying
    there are no more) and the order of the quotes (relevance, newest or oldest first).

    The page and order links are real permalinks (they work without script); the chat's script
    turns a click into a new answer in the conversation, asking the link's query (the chat's
    HTML sanitiser keeps `href` and `class`, not `data-` attributes).
    """
    from dataclasses import replace

    query = export_query(asked)
    tools = ('<p class="cqa-tools">'
             f'<a class="cqa-copy" href="/export.md?{_href(query)}" title="Copy the quotes as text">Copy</a>'
             f'<a class="cqa-permalink" href="{_href(permalink(asked))}" title="A link that asks this again">'
             "Link to this answer</a>"
             f'<a class="cqa-export-md" href="/export.md?{_href(query)}" download="answer.md">Markdown</a>'
             f'<a class="cqa-export-csv" href="/export.csv?{_href(query)}" download="answer.csv">CSV</a></p>')
    if not answered:
        return tools

    def link(target: AskedWith, text: str, css: str, extra: str = "") -> str:
        return f'<a class="{css}" href="{_href(permalink(target))}"{extra}>{_href(text)}</a>'

    if more:
        paging = link(replace(asked, page=asked.page + 1), "More results", "cqa-more",
                      ' title="The next quotes for the same question"')
    elif shown:
        paging = ('<span class="cqa-no-more">No more quotes: '
                  f'{"these are all" if asked.page == 1 else "the earlier pages hold all"} '
                  "the quotes that answer this question.</span>")
    else:
        paging = ""
    orders = "".join(
        f'<span class="cqa-sort-current" aria-current="true">{_href(text)}</span>' if value == asked.sort
        else link(replace(asked, page=1, sort=value), text, f"cqa-sort cqa-sort-{value}")
        for value, text in SORT_LABELS)
    return (tools + f'<div class="cqa-pager">{paging}'
            f'<span class="cqa-sort-group" role="group" aria-label="Order of the quotes">Order: {orders}</span></div>')


def conversation_links(asked: Sequence[AskedWith]) -> str:
    """Export links for every answered question so far ('' before the first)."""
    if not asked:
        return ""
    query = urlencode([("ask", export_query(item)) for item in asked])
    count = f"{len(asked)} answer{'' if len(asked) == 1 else 's'}"
    return (f'<p class="cqa-conversation">Export this conversation ({count}): '
            f'<a href="/export.md?{_href(query)}" download="conversation.md">Markdown</a> '
            f'<a href="/export.csv?{_href(query)}" download="conversation.csv">CSV</a></p>')


def date_problem(since: str | None, until: str | None) -> str | None:
    """A plain-words reason the date fields cannot be used, or None when they are fine (or empty)."""
    from assistant.ingest.dates import parse_date_bound

    bounds = {}
    for label, value, end in (("From", since, False), ("Until", until, True)):
        text = (value or "").strip()
        if not text:
            continue
        try:
            bounds[label] = parse_date_bound(text, end=end)
        except ValueError:
            return (f"“{label}” is not a date we can read: pick one from the calendar, "
                    "or type it as 2025-06-30, 2025-06 or 2025.")
    if len(bounds) == 2 and bounds["From"] > bounds["Until"]:
        return "“From” is after “Until”: swap them or clear one."
    return None


def filter_chips(sources: Sequence[str] | None, since: str | None, until: str | None) -> str:
    """The active filters as removable chips, plus the phone's "Filters" drawer button.

    Each chip is a button carrying what it removes (data-kind, data-value); the chat's
    script turns a click into the chips component's click event (ui.py removes it).
    """
    import html

    chips = [("source", source, f"Source: {source}") for source in sources or ()]
    chips += [(kind, value, f"{label} {value}") for kind, value, label in
              (("since", (since or "").strip(), "From"), ("until", (until or "").strip(), "Until")) if value]
    count = f" ({len(chips)})" if chips else ""
    buttons = "".join(
        f'<button type="button" class="cqa-chip" data-kind="{kind}" data-value="{html.escape(value, quote=True)}" '
        f'aria-label="Remove filter {html.escape(text, quote=True)}">{html.escape(text)} '
        '<span aria-hidden="true">×</span></button>' for kind, value, text in chips)
    return (f'<div class="cqa-chip-row"><button type="button" class="cqa-drawer-toggle" aria-controls="cqa-filters" '
            f'aria-expanded="false">Filters{count}</button>{buttons}</div>')


def without_chip(kind: str, value: str, sources: Sequence[str] | None, since: str | None,
                 until: str | None) -> tuple[list[str], str | None, str | None]:
    """The filters with the chip (`kind`, `value`) removed."""
    kept = [source for source in sources or () if not (kind == "source" and source == value)]
    return kept, (None if kind == "since" else since), (None if kind == "until" else until)
