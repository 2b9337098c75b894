"""GDELT DOC 2.0 article lists (`mode=artlist&format=json`), as JSON.

A response is {"articles": [{"url", "url_mobile", "title", "seendate", "socialimage",
"domain", "language", "sourcecountry"}, ...]}. GDELT lists articles, it does not carry
their text: each record keeps the headline as its text (`kind: headline`) until
`conflict-qa fetch` downloads the article page and stores its text instead.

- url: the article; the id is derived from it (corpus.py), so the same article listed in
  two result pages, or also reached by a feed, is one document.
- published: `seendate` (when GDELT first saw it, "20250106T101500Z"), the closest GDELT
  has to a publication date.
- source: the domain; `source_country` is the outlet's country (not the event's place)
  and `language` the article's language as GDELT names it ("English").
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

from assistant.ingest.formats import FormatError, FormatProblem, FormatRecord

NAME = "gdelt"
SUFFIXES = (".json", ".json.gz")

_SIGNATURE = re.compile(rb'\A\{\s*"articles"\s*:')
_SEENDATE = re.compile(r"(\d{4})(\d{2})(\d{2})T?(\d{2})?(\d{2})?(\d{2})?Z?")


def sniff(head: bytes) -> bool:
    """A JSON object whose first key is `articles` (GDELT's artlist)."""
    return _SIGNATURE.match(head) is not None


def parse(raw: bytes) -> Iterator[FormatRecord | FormatProblem]:
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormatError(f"malformed GDELT JSON: {error}") from None
    articles = payload.get("articles") if isinstance(payload, dict) else None
    if not isinstance(articles, list):
        raise FormatError("GDELT JSON without an 'articles' list")
    for position, article in enumerate(articles, start=1):
        if not isinstance(article, dict) or not article.get("url"):
            yield FormatProblem(reason="GDELT article without a url", line=position)
            continue
        title = " ".join(str(article.get("title") or "").split())
        if not title:
            yield FormatProblem(reason="GDELT article without a title", line=position)
            continue
        fields: dict[str, Any] = {
            "title": title,
            "url": article["url"],
            "published": seen_date(article.get("seendate")),
            "source": article.get("domain") or None,
            "publisher": article.get("domain") or None,
            "format": NAME,
            "kind": "headline",
            "original_id": article["url"],
            "language": article.get("language") or None,
            "source_country": article.get("sourcecountry") or None,
            "seen": article.get("seendate") or None,
        }
        yield FormatRecord(fields={k: v for k, v in fields.items() if v is not None},
                           text=title, line=position)


def seen_date(value: Any) -> str | None:
    """GDELT's "20250106T101500Z" as an ISO date ("2025-01-06"), None when unreadable."""
    match = _SEENDATE.fullmatch(str(value or "").strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None
