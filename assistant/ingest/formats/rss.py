"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds, read by feedparser.

One record per entry:

- url: the entry link; the document id is derived from it (see corpus.py), so the same
  article reached through two feeds is one document. An entry without a link gets
  "feed-" + the first 12 hex digits of the SHA-1 of its guid.
- title, author as given; published: the entry's published date, else its updated date,
  as written (the zone is not converted, as for every other format).
- text: the full content (`content:encoded`, Atom `content`) when present, else the
  summary, cleaned of HTML by trafilatura. An entry with neither keeps its title as text
  and is marked `kind: headline`.
- source and publisher: the feed's title (else the host of its link); license: the
  feed's rights/copyright line when it has one.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from typing import Any

from assistant.ingest.formats import FormatError, FormatProblem, FormatRecord, clean_html

NAME = "rss"
SUFFIXES = (".xml", ".rss", ".atom")

_ROOT = re.compile(
    rb"\A(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<(?:rss|feed|rdf:RDF)[\s>]",
    re.DOTALL | re.IGNORECASE,
)


def sniff(head: bytes) -> bool:
    """True when the document element is <rss>, <feed> (Atom) or <rdf:RDF> (RSS 1.0)."""
    return _ROOT.match(head) is not None


def parse(raw: bytes) -> Iterator[FormatRecord | FormatProblem]:
    import feedparser

    # A stream, never a string: feedparser treats a string that looks like a URL as one to fetch.
    parsed = feedparser.parse(io.BytesIO(raw), sanitize_html=True, resolve_relative_uris=True)
    malformed = (f"malformed feed: {_one_line(parsed.get('bozo_exception'))}"
                 if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"),
                                                          feedparser.CharacterEncodingOverride)
                 else None)
    feed = parsed.feed
    feed_title = _text(feed.get("title"))
    feed_link = feed.get("link")
    flavour = "atom" if str(parsed.get("version", "")).startswith("atom") else "rss"
    records = [_entry_record(entry, feed_title=feed_title, feed_link=feed_link,
                             rights=_text(feed.get("rights")), flavour=flavour, position=position)
               for position, entry in enumerate(parsed.entries, start=1)]
    if malformed and not any(isinstance(record, FormatRecord) for record in records):
        raise FormatError(malformed)
    if malformed:
        yield FormatProblem(reason=f"{malformed}; the entries that could be read were kept")
    yield from records


def _entry_record(entry: Any, *, feed_title: str | None, feed_link: str | None, rights: str | None,
                  flavour: str, position: int) -> FormatRecord | FormatProblem:
    title = _text(entry.get("title"))
    link = entry.get("link") or None
    guid = entry.get("id") or link
    contents = [item.get("value", "") for item in entry.get("content", []) if item.get("value")]
    body = clean_html(max(contents, key=len)) if contents else ""
    # The summary is cleaned only when there is no full content: trafilatura costs ~20 ms a call.
    summary = "" if body else clean_html(entry.get("summary", "") or "")
    text = body or summary
    kind = "report"
    if not text:
        if not title:
            return FormatProblem(reason="feed entry without title, summary or content", line=position)
        text, kind = title, "headline"
    fields: dict[str, Any] = {
        "title": title,
        "url": link,
        "published": entry.get("published") or entry.get("updated"),
        "author": _text(entry.get("author")),
        "source": feed_title,
        "publisher": feed_title,
        "license": rights,
        "format": flavour,
        "kind": kind,
        "original_id": guid,
        "feed": {"title": feed_title, "link": feed_link},
        "categories": [tag.get("term") for tag in entry.get("tags", []) if tag.get("term")],
        "full_text": bool(body),
    }
    if not link and guid:
        fields["id"] = "feed-" + hashlib.sha1(str(guid).encode("utf-8")).hexdigest()[:12]
    return FormatRecord(fields={key: value for key, value in fields.items()
                                if value not in (None, "", [])}, text=text, line=position)


def _text(value: Any) -> str | None:
    if not value:
        return None
    cleaned = " ".join(clean_html(str(value)).split()) if "<" in str(value) else " ".join(str(value).split())
    return cleaned or None


def _one_line(error: Any) -> str:
    return " ".join(str(error or "unreadable xml").split())[:200]
