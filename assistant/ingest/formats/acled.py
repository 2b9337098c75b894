"""ACLED CSV exports (https://acleddata.com), one event per row.

The `notes` column is the ACLED coder's own summary of the event, so it is the text and
can be quoted, attributed to ACLED (`publisher`), citing the outlets in `source`
(`cites`). Every other column is coded data, kept under `event`:

- id: "acled-" + `event_id_cnty` ("CAF1234"), so a re-import updates the event.
- published: `timestamp` (when ACLED last uploaded the row, UTC), else `event_date`.
- event: date_start = date_end = `event_date`, date_precision = `time_precision`
  (1 the day is known, 2 the week, 3 the month: ACLED codebook), country, admin1-3,
  place = `location`, latitude, longitude, actors (actor1, assoc_actor_1, actor2,
  assoc_actor_2), event_type / sub_event_type and fatalities {"reported": N}, ACLED's
  own conservative count.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from assistant.ingest.dates import normalize_date
from assistant.ingest.formats import (FormatError, FormatProblem, FormatRecord, number_or_none,
                                      split_names)

NAME = "acled"
SUFFIXES = (".csv", ".csv.gz")
PUBLISHER = "ACLED"

_REQUIRED = {"event_id_cnty", "event_date", "country", "notes"}


def sniff(head: bytes) -> bool:
    """A CSV whose header names ACLED's `event_id_cnty`, `event_date` and `notes` columns."""
    header = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    return all(column in header for column in ("event_id_cnty", "event_date", "notes"))


def parse(raw: bytes) -> Iterator[FormatRecord | FormatProblem]:
    rows = read_csv(raw)
    missing = _REQUIRED - set(rows.fieldnames or ())
    if missing:
        raise FormatError("ACLED CSV without column(s) " + ", ".join(sorted(missing)))
    for row in rows:
        line = rows.line_num
        notes = " ".join((row.get("notes") or "").split())
        event_id = (row.get("event_id_cnty") or "").strip()
        if not event_id:
            yield FormatProblem(reason="ACLED row without event_id_cnty", line=line)
            continue
        if not notes:
            yield FormatProblem(reason=f"ACLED event {event_id} without notes", line=line)
            continue
        yield FormatRecord(fields=_fields(row, event_id), text=notes, line=line)


def _fields(row: dict[str, str], event_id: str) -> dict[str, Any]:
    value = lambda name: (row.get(name) or "").strip() or None  # noqa: E731
    event_date = normalize_date(value("event_date"))
    place = ", ".join(part for part in (value("location"), value("admin1"), value("country")) if part)
    kind_of_event = " / ".join(part for part in (value("event_type"), value("sub_event_type")) if part)
    actors = [name for name in (value("actor1"), value("assoc_actor_1"), value("actor2"),
                                value("assoc_actor_2")) if name]
    cited = split_names(value("source"))
    return {
        "id": f"acled-{event_id}",
        "title": f"ACLED event {event_id}: {kind_of_event or 'event'} — {place} ({event_date or value('event_date')})",
        "published": _timestamp_date(value("timestamp")) or event_date,
        "source": PUBLISHER,
        "publisher": PUBLISHER,
        "cites": [{"name": name} for name in cited],
        "format": NAME,
        "kind": "report",
        "original_id": event_id,
        "countries": [value("country")] if value("country") else [],
        "event": {
            "date_start": event_date, "date_end": event_date,
            "date_precision": number_or_none(value("time_precision")),
            "country": value("country"), "admin1": value("admin1"), "admin2": value("admin2"),
            "admin3": value("admin3"), "place": value("location"),
            "latitude": number_or_none(value("latitude")), "longitude": number_or_none(value("longitude")),
            "actors": actors, "event_type": value("event_type"), "sub_event_type": value("sub_event_type"),
            "fatalities": {"reported": number_or_none(value("fatalities"))},
            "source_scale": value("source_scale"),
        },
    }


def _timestamp_date(value: str | None) -> str | None:
    number = number_or_none(value)
    if number is None or number <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(number, dt.timezone.utc).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def read_csv(raw: bytes) -> csv.DictReader:
    """A DictReader over UTF-8 CSV text, with the delimiter (',', ';' or tab) read from the header."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormatError(f"not utf-8 text (bad byte at offset {error.start})") from None
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    reader.fieldnames = [name.strip().lower() for name in (reader.fieldnames or [])]
    return reader
