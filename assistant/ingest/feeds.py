"""Fetching feeds, API result pages and article pages into the corpus folder.

`fetch_sources` downloads each source once, politely, reads it with the published
formats (`assistant.ingest.formats`), downloads the article page of entries that carry
only a headline or a teaser (text by trafilatura), and merges every record into one
JSON lines file that `conflict-qa build` reads like any other:

    corpus/
      fetched/reports.jsonl   one record per report or event, keyed by its id
      .fetch/state.json       per source: ETag, Last-Modified, last result (hidden: not loaded)
      .fetch/lock             held while a fetch or watch runs

Politeness and safety, all in `FetchSettings`: a User-Agent that names the tool,
conditional requests (If-None-Match / If-Modified-Since) so an unchanged feed costs a
304, and the limits of `http_client.PoliteClient` (per-host delay, retries with back-off,
size and time per response, http(s) only). A source that fails is reported and the
others go on.

Duplicates: a record's id comes from its publisher's id or from its canonical URL
(tracking parameters such as utm_* removed), so the same article listed by two feeds is
one record; a copy with a different URL but the same body (syndication: the same
paragraphs of 80+ characters, 200+ in all) is folded into the first. Either way
`seen_in` lists every feed and URL it was seen at. `fetched` is when it was first
fetched and `fetched_from` from which source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from assistant.ingest import formats as published_formats
from assistant.ingest.corpus import url_document_id
from assistant.ingest.http_client import FetchError, FetchSettings, PoliteClient, Response
from assistant.storage import replace_file

STORE_FILE = Path("fetched") / "reports.jsonl"
STATE_FILE = Path(".fetch") / "state.json"
LOCK_FILE = Path(".fetch") / "lock"
SYNDICATION_MIN_CHARS = 200
"""Shorter texts (headlines, one-line teasers) are too alike across different stories to merge by text."""

_TRACKING_PARAMETERS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|ref|at_\w+)$", re.IGNORECASE)


class SourceListError(Exception):
    """The list of sources cannot be read; the message is one line for the user."""


@dataclass(frozen=True, kw_only=True)
class SourceResult:
    """What happened to one source: status "fetched", "not-modified" or "failed"."""

    url: str
    status: str
    items: int = 0
    new: int = 0
    updated: int = 0
    articles: int = 0
    robots_refused: int = 0
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class FetchReport:
    sources: tuple[SourceResult, ...]
    stored: int
    store: str

    @property
    def new(self) -> int:
        return sum(result.new for result in self.sources)

    @property
    def updated(self) -> int:
        return sum(result.updated for result in self.sources)

    @property
    def failed(self) -> tuple[SourceResult, ...]:
        return tuple(result for result in self.sources if result.status == "failed")


def read_source_list(argument: str) -> list[str]:
    """The URLs to fetch: `argument` itself when it is a URL, else the lines of that file.

    Blank lines and lines starting with "#" are skipped; anything after the URL on a line
    (a label) is ignored. Raises SourceListError for a missing file or a line that is not
    an http(s) URL.
    """
    if re.match(r"^https?://", argument, re.IGNORECASE):
        return [argument]
    path = Path(argument)
    if not path.is_file():
        raise SourceListError(f"no such URL or sources file: {argument}")
    urls = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        url = text.split()[0]
        if not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
            raise SourceListError(f"{path}:{number}: not an http(s) URL: {url[:80]}")
        urls.append(url)
    if not urls:
        raise SourceListError(f"{path}: no URLs in it")
    return urls


def canonical_url(url: str) -> str:
    """`url` without tracking parameters (utm_*, fbclid, ...) or fragment."""
    parts = urlsplit(url.strip())
    query = urlencode([(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING_PARAMETERS.match(key)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


# ---------------------------------------------------------------- the store


class FetchedStore:
    """The fetched records, by id, as kept in `corpus/fetched/reports.jsonl`."""

    def __init__(self, corpus_dir: Path) -> None:
        self.path = Path(corpus_dir) / STORE_FILE
        self.records: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    record = json.loads(line) if line.strip() else None
                except ValueError:
                    record = None  # a damaged line: `build` reports it; the next save drops it
                if isinstance(record, dict) and isinstance(record.get("id"), str) \
                        and isinstance(record.get("text"), str):
                    self.records[record["id"]] = record
        self._by_text = {key: r["id"] for r in self.records.values() if (key := _body_key(r["text"]))}

    def merge(self, record: dict[str, Any], *, source: str, now: str) -> str:
        """Add or update `record`; returns "new", "updated" or "unchanged"."""
        seen = {"feed": source, "url": record.get("url")}
        existing = self.records.get(record["id"])
        body_key = _body_key(record["text"])
        if existing is None and body_key:
            twin = self._by_text.get(body_key)
            if twin is not None:
                existing = self.records[twin]
                return "updated" if _add_seen(existing, seen) else "unchanged"
        if existing is None:
            self.records[record["id"]] = {**record, "fetched": now, "fetched_from": source, "seen_in": [seen]}
            if body_key:
                self._by_text.setdefault(body_key, record["id"])
            return "new"
        if (existing.get("article_fetched") and not record.get("article_fetched")) or (
                existing.get("kind") == "report" and record.get("kind") == "headline"):
            # A feed listing again (or another feed listing) an article whose page was already
            # fetched: keep the article's text, not the teaser or headline.
            return "updated" if _add_seen(existing, seen) else "unchanged"
        content_changed = any(existing.get(key) != value for key, value in record.items())
        place_added = _add_seen(existing, seen)
        if content_changed:
            kept = {key: existing[key] for key in ("fetched", "fetched_from", "seen_in")}
            self.records[record["id"]] = {**record, **kept}
        return "updated" if content_changed or place_added else "unchanged"

    def known_article(self, record_id: str) -> bool:
        stored = self.records.get(record_id)
        return stored is not None and stored.get("kind") == "report" and bool(stored.get("article_fetched"))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(self.records[key], ensure_ascii=False, sort_keys=True) for key in sorted(self.records)]
        replace_file(self.path, "".join(line + "\n" for line in lines))


def _add_seen(record: dict[str, Any], seen: dict[str, Any]) -> bool:
    places = record.setdefault("seen_in", [])
    if seen in places:
        return False
    places.append(seen)
    return True


def _body_key(text: str) -> str | None:
    """A fingerprint of a report's body: its paragraphs of 80+ characters, so that a copy with
    another headline line or dateline matches; None when they total under SYNDICATION_MIN_CHARS."""
    body = " ".join(line for line in text.lower().splitlines() if len(line.strip()) >= 80)
    return _text_key(body) if len(body) >= SYNDICATION_MIN_CHARS else None


def _text_key(text: str) -> str:
    return hashlib.sha1(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


def _load_state(corpus_dir: Path) -> dict[str, Any]:
    try:
        state = json.loads((Path(corpus_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


# ---------------------------------------------------------------- fetching


def fetch_sources(urls: Sequence[str], corpus_dir: Path, *, settings: FetchSettings = FetchSettings(),
                  client: PoliteClient | None = None,
                  on_result: Callable[[SourceResult], None] | None = None) -> FetchReport:
    """Fetch every URL into `corpus_dir` (see the module docstring); never raises for one source."""
    corpus_dir = Path(corpus_dir)
    store = FetchedStore(corpus_dir)
    state = _load_state(corpus_dir)
    own_client = client is None
    client = client or PoliteClient(settings)
    results = []
    try:
        for url in urls:
            try:
                result = _fetch_source(url, client, store, state.setdefault(url, {}), settings)
            except FetchError as error:
                result = SourceResult(url=url, status="failed", error=str(error))
            state[url].update(last_checked=_now(), last_status=result.status, last_error=result.error)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        if own_client:
            client.close()
    store.save()
    (corpus_dir / STATE_FILE).parent.mkdir(parents=True, exist_ok=True)
    replace_file(corpus_dir / STATE_FILE, json.dumps(state, indent=1, sort_keys=True))
    return FetchReport(sources=tuple(results), stored=len(store.records), store=str(store.path))


def _fetch_source(url: str, client: PoliteClient, store: FetchedStore, state: dict[str, Any],
                  settings: FetchSettings) -> SourceResult:
    conditional = {}
    if state.get("etag"):
        conditional["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        conditional["If-Modified-Since"] = state["last_modified"]
    response = client.get(url, conditional)
    if response.status == 304:
        return SourceResult(url=url, status="not-modified")
    records = _records_from(response)
    now = _now()
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    articles = refused = 0
    for record in records:
        wants_page = (settings.articles and record.get("url") and articles < settings.max_articles
                      and _needs_article(record) and not store.known_article(record["id"]))
        if wants_page and not client.allowed(record["url"]):
            refused += 1  # the site's robots.txt says no: the entry's own text stays
        elif wants_page:
            try:
                record = _with_article(record, client.get(record["url"]))
                articles += 1
            except FetchError:
                pass  # the entry's own text or headline stays; the page is tried again next round
        counts[store.merge(record, source=url, now=now)] += 1
    state.update(etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
                 last_fetched=now, final_url=response.url)
    return SourceResult(url=url, status="fetched", items=len(records), new=counts["new"],
                        updated=counts["updated"], articles=articles, robots_refused=refused)


def _records_from(response: Response) -> list[dict[str, Any]]:
    """The corpus records in a response: the entries of a feed or data page, or one article."""
    body = response.body
    found = published_formats.detect(published_formats.head(body))
    if found is None:
        if b"<html" in body[:4096].lower() or b"<!doctype html" in body[:4096].lower():
            return [_article_record(response)]
        raise FetchError("not a feed, a ReliefWeb/GDELT/ACLED/UCDP page or an HTML article")
    records = []
    try:
        for item in found.parse(published_formats.gunzip_if_needed(body)):
            if isinstance(item, published_formats.FormatRecord):
                records.append(_stored_record(item.fields, item.text))
    except published_formats.FormatError as error:
        raise FetchError(str(error)) from None
    if not records:
        raise FetchError(f"{found.name} page with no readable items")
    return records


def _stored_record(fields: dict[str, Any], text: str) -> dict[str, Any]:
    record = {key: value for key, value in fields.items() if value is not None}
    if record.get("url"):
        record["url"] = canonical_url(record["url"])
    record["id"] = record.get("id") or (url_document_id(record["url"]) if record.get("url")
                                        else "fetched-" + _text_key(text)[:12])
    record["text"] = text
    return record


def _needs_article(record: dict[str, Any]) -> bool:
    return record.get("kind") == "headline" or (record.get("format") in ("rss", "atom")
                                                and not record.get("full_text"))


def _with_article(record: dict[str, Any], response: Response) -> dict[str, Any]:
    article = _article_record(response)
    if len(article["text"]) <= len(record["text"]):
        return record
    merged = {**article, **{key: value for key, value in record.items() if key != "text"}}
    merged.update(text=article["text"], kind="report", article_fetched=True, full_text=True,
                  article_url=response.url)
    return {key: value for key, value in merged.items() if value is not None}


def _article_record(response: Response) -> dict[str, Any]:
    import trafilatura

    page = trafilatura.bare_extraction(
        response.body, url=response.url, with_metadata=True, include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if page is None or not (page.text or "").strip():
        raise FetchError("no article text found in the page")
    fields = {"title": page.title, "author": page.author, "published": page.date,
              "source": page.sitename, "publisher": page.sitename, "url": response.url,
              "format": "html", "kind": "report", "article_fetched": True}
    return _stored_record({key: value for key, value in fields.items() if value}, page.text.strip())


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- watching


def parse_interval(text: str) -> float:
    """'90s', '15m', '2h' or a number of seconds -> seconds; ValueError when unreadable or < 1 s."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text or "")
    if not match:
        raise ValueError(f"cannot read interval '{text}' (use e.g. 90s, 15m, 2h)")
    seconds = float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]
    if seconds < 1:
        raise ValueError("the interval must be at least 1 second")
    return seconds


def round_line(number: int, report: FetchReport, index: dict[str, Any] | None) -> str:
    """The one log line of a watch round."""
    line = (f"{_now()} round {number}: {report.new} new, {report.updated} updated, "
            f"{len(report.failed)} failed of {len(report.sources)} sources")
    if index is not None:
        line += f"; index: {index.get('added', 0)} added, {index.get('updated', 0)} updated"
    for failure in report.failed:
        line += f"; failed {failure.url}: {failure.error}"
    return line


def watch_rounds(run_round: Callable[[int], str], *, every_s: float, rounds: int | None,
                 log: Callable[[str], None], sleep: Callable[[float], None] = time.sleep) -> int:
    """Run `run_round(n)` every `every_s` seconds (start to start), logging the line it returns,
    `rounds` times or until interrupted; returns the number of rounds run."""
    number = 0
    while rounds is None or number < rounds:
        number += 1
        started = time.monotonic()
        log(run_round(number))
        if rounds is not None and number >= rounds:
            break
        sleep(max(0.0, every_s - (time.monotonic() - started)))
    return number


def feed_summary(documents: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Per source URL that fetched documents: how many it delivered and when it last delivered one.

    Read from each document's `seen_in` (every feed it was seen in) and `fetched`; documents
    that were not fetched (files put in the corpus by hand) are not counted.
    """
    feeds: dict[str, dict[str, Any]] = {}
    for document in documents:
        metadata = document.metadata
        places = {seen.get("feed") for seen in metadata.get("seen_in", []) if isinstance(seen, dict)}
        places.discard(None)
        if metadata.get("fetched_from"):
            places.add(metadata["fetched_from"])
        for feed in places:
            entry = feeds.setdefault(feed, {"documents": 0, "last_fetched": None})
            entry["documents"] += 1
            fetched = metadata.get("fetched")
            if fetched and (entry["last_fetched"] is None or fetched > entry["last_fetched"]):
                entry["last_fetched"] = fetched
    return dict(sorted(feeds.items(), key=lambda item: (-item[1]["documents"], item[0])))
