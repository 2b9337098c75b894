"""Published conflict-reporting formats, recognised by what a file holds, not by its name.

Each module reads one format into `FormatRecord`s (the fields a corpus record has, plus
its text); `corpus.py` turns them into `Document`s exactly as it does JSONL records.

    rss        RSS 2.0, RSS 1.0 and Atom feeds (feedparser; entry HTML cleaned by trafilatura)
    reliefweb  ReliefWeb API v1 `reports` JSON
    gdelt      GDELT DOC 2.0 `artlist` JSON
    acled      ACLED CSV exports
    ucdp       UCDP GED events: CSV, API JSON, GeoJSON, or JSON lines of GED properties

Metadata keys every format may set (documented in /work/notes/feeds.md):

- `format`       which of the above read it ("rss", "atom", "reliefweb", "gdelt", "acled", "ucdp-ged")
- `kind`         "report" (someone's words, quotable), "coded-event" (a data row, never a
                 quote) or "headline" (only a title is known)
- `original_id`  the id the publisher gave the item; the document id is derived from it, so
                 a re-import updates the document instead of adding a second one
- `publisher`, `cites`, `license`   who wrote the words, whom they cite, under what terms
- `event`        for coded events: date_start, date_end, date_precision, country, admin1,
                 admin2, place, latitude, longitude, actors, event_type, fatalities
                 ({"best", "low", "high"} for UCDP, {"reported"} for ACLED)
- `countries`    countries a report is about (ReliefWeb)
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

SNIFF_BYTES = 4096
"""Bytes of (decompressed) content each format looks at to recognise itself."""


@dataclass(frozen=True, kw_only=True)
class FormatRecord:
    """One item of a published format: corpus fields (id, title, url, ...) and its text.

    `line` is the item's line (CSV, JSON lines) or position (feeds, JSON lists), for problems.
    """

    fields: dict[str, Any]
    text: str
    line: int | None = None


@dataclass(frozen=True, kw_only=True)
class FormatProblem:
    """An item that could not be read; `line` as in FormatRecord."""

    reason: str
    line: int | None = None


class FormatError(Exception):
    """The whole input is unusable in the format it claimed; the message is one line."""


@dataclass(frozen=True, kw_only=True)
class Format:
    name: str
    sniff: Callable[[bytes], bool]
    parse: Callable[[bytes], Iterator[FormatRecord | FormatProblem]]
    suffixes: tuple[str, ...] = field(default=())


def _formats() -> tuple[Format, ...]:
    from assistant.ingest.formats import acled, gdelt, reliefweb, rss, ucdp

    # Order matters only where two could claim the same bytes: none do today, but the
    # specific JSON shapes go before the generic ones.
    return tuple(Format(name=module.NAME, sniff=module.sniff, parse=module.parse,
                        suffixes=module.SUFFIXES)
                 for module in (rss, reliefweb, gdelt, ucdp, acled))


FORMAT_SUFFIXES = (".xml", ".rss", ".atom", ".json", ".json.gz", ".csv", ".csv.gz")
"""File names these formats usually carry; files with other supported names are sniffed too."""


def gunzip_if_needed(raw: bytes) -> bytes:
    """`raw` decompressed when it starts with the gzip magic; raises FormatError when damaged."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise FormatError("not a valid gzip file") from None


def head(raw: bytes) -> bytes:
    """The first SNIFF_BYTES of the content, decompressed when `raw` is gzip (cheaply: only
    that much is inflated); empty for a damaged gzip file."""
    if raw[:2] != b"\x1f\x8b":
        return raw[:SNIFF_BYTES]
    try:
        return zlib.decompressobj(wbits=31).decompress(raw, SNIFF_BYTES)
    except zlib.error:
        return b""


def detect(head_bytes: bytes) -> Format | None:
    """The format whose signature the start of a file (see `head`) carries, or None."""
    head = head_bytes[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    for candidate in _formats():
        if candidate.sniff(head):
            return candidate
    return None


def clean_html(fragment: str) -> str:
    """The readable text of an HTML fragment (a feed entry, an API `body-html`), by trafilatura.

    Paragraphs become lines; markup, scripts and boilerplate go. Text without markup is
    returned with its whitespace tidied only.
    """
    if "<" not in fragment:
        return "\n".join(" ".join(line.split()) for line in fragment.strip().splitlines()).strip()
    import trafilatura

    # fast=True: no readability/jusText comparison, which on a fragment costs ~30 ms and adds nothing.
    text = trafilatura.extract(f"<html><body><article>{fragment}</article></body></html>",
                               favor_recall=True, include_comments=False, include_tables=False,
                               fast=True)
    return (text or "").strip()


def split_names(value: Any) -> list[str]:
    """'Reuters; AP' or ['Reuters', 'AP'] -> ['Reuters', 'AP'] (empty parts dropped)."""
    if value is None:
        return []
    parts = value if isinstance(value, (list, tuple)) else str(value).split(";")
    return [" ".join(str(part).split()) for part in parts if str(part).strip()]


def number_or_none(value: Any) -> int | float | None:
    """An integer or float from a CSV/JSON cell; '', None and unreadable text give None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else number
