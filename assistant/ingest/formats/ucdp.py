"""UCDP Georeferenced Event Dataset (GED) events (https://ucdp.uu.se), as coded data.

Accepted shapes, recognised by GED's columns (`date_start`, `side_a`, `best`):
CSV, the API's JSON ({"Result": [...]}), GeoJSON (features' `properties`), a JSON list,
and JSON lines of GED properties (the shared Central African Republic file).

A GED event has no narrative: nobody wrote sentences to quote. Its text is therefore a
data row built from the coded columns and labelled as such, for example

    UCDP GED coded event 36210 (data, not a quote) · dates: 2009-02-20 (exact day) ·
    place: Central African Republic remote southeast · sides: Government of Uganda vs LRA
    (Uganda: Government) · people killed: best 3 (low 3, high 3) · source article: Reuters 25/2-09

(one line), so that a question naming the place, the period or a side finds it; `kind` is
"coded-event" and the title and source say so wherever it is shown.

- id: "ucdp-ged-" + the GED id, so a re-import updates the event.
- published: none (GED gives no per-event publication date); the event dates are under
  `event` (date_start, date_end, date_precision = GED `date_prec`, 1 exact day .. 5
  within a year), with country, admin1 (`adm_1`), admin2 (`adm_2`), place
  (`where_description`), latitude, longitude, actors (side_a, side_b), conflict, and
  fatalities {"best", "low", "high", "side_a", "side_b", "civilians", "unknown"}.
- publisher "UCDP"; cites: the `source_article` entries; license: the record's
  `license`, else "CC BY 4.0 (Uppsala Conflict Data Program)".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from assistant.ingest.dates import normalize_date
from assistant.ingest.formats import (FormatError, FormatProblem, FormatRecord, number_or_none,
                                      split_names)
from assistant.ingest.formats.acled import read_csv

NAME = "ucdp-ged"
SUFFIXES = (".csv", ".csv.gz", ".json", ".json.gz", ".jsonl", ".jsonl.gz")
PUBLISHER = "UCDP"
SOURCE_LABEL = "UCDP GED (coded data)"
DEFAULT_LICENSE = "CC BY 4.0 (Uppsala Conflict Data Program)"

DATE_PRECISION = {1: "exact day", 2: "within 2-6 days", 3: "within a week",
                  4: "within a month", 5: "within a year"}
"""GED `date_prec` codes (UCDP GED codebook 23.1, section on date precision), in words."""

_COLUMNS = (b"date_start", b"side_a", b"best")


def sniff(head: bytes) -> bool:
    """JSON or CSV that carries GED's `date_start`, `side_a` and `best` columns."""
    if head[:1] in (b"{", b"["):
        return all(b'"' + column + b'"' in head for column in _COLUMNS)
    header = head.split(b"\n", 1)[0].lower()
    return all(column in header for column in _COLUMNS) and b"where_description" in header


def parse(raw: bytes) -> Iterator[FormatRecord | FormatProblem]:
    for line, item in _items(raw):
        if isinstance(item, FormatProblem):
            yield item
            continue
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            yield FormatProblem(reason="UCDP GED event without an id", line=line)
            continue
        yield FormatRecord(fields=event_fields(item), text=event_row(item), line=line)


def _items(raw: bytes) -> Iterable[tuple[int, Any]]:
    stripped = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] not in (b"{", b"["):
        return ((number, row) for number, row in _csv_rows(raw))
    try:
        payload = json.loads(stripped.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _json_lines(stripped)
    if isinstance(payload, dict) and isinstance(payload.get("Result"), list):
        payload = payload["Result"]
    elif isinstance(payload, dict) and isinstance(payload.get("features"), list):
        payload = [feature.get("properties") if isinstance(feature, dict) else None
                   for feature in payload["features"]]
    elif isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise FormatError("UCDP JSON that is neither a list of events, API Result nor GeoJSON")
    return enumerate(payload, start=1)


def _csv_rows(raw: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    reader = read_csv(raw)
    for row in reader:
        yield reader.line_num, row


def _json_lines(raw: bytes) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            yield number, FormatProblem(reason=f"invalid json: {error}", line=number)


def event_fields(event: dict[str, Any]) -> dict[str, Any]:
    """The corpus fields of one GED event (see the module docstring)."""
    value = lambda name: (str(event.get(name)).strip() or None) if event.get(name) not in (None, "") else None  # noqa: E731
    event_id = value("id")
    start, end = normalize_date(value("date_start")), normalize_date(value("date_end"))
    place = _place(event)
    return {
        "id": f"ucdp-ged-{event_id}",
        "title": f"UCDP GED coded event {event_id} (data, not a quote): {_dates(start, end)}, {place}",
        "source": SOURCE_LABEL,
        "publisher": PUBLISHER,
        "cites": [{"name": name} for name in split_names(value("source_article"))],
        "license": value("license") or DEFAULT_LICENSE,
        "format": NAME,
        "kind": "coded-event",
        "original_id": event_id,
        "countries": [value("country")] if value("country") else [],
        "event": {
            "date_start": start, "date_end": end,
            "date_precision": number_or_none(event.get("date_prec")),
            "country": value("country"), "admin1": value("adm_1"), "admin2": value("adm_2"),
            "place": value("where_description"),
            "latitude": number_or_none(event.get("latitude")),
            "longitude": number_or_none(event.get("longitude")),
            "actors": [name for name in (value("side_a"), value("side_b")) if name],
            "conflict": value("conflict_name"),
            "event_type": {"1": "state-based", "2": "non-state", "3": "one-sided"}.get(
                value("type_of_violence") or ""),
            "fatalities": {
                "best": number_or_none(event.get("best")), "low": number_or_none(event.get("low")),
                "high": number_or_none(event.get("high")),
                "side_a": number_or_none(event.get("deaths_a")),
                "side_b": number_or_none(event.get("deaths_b")),
                "civilians": number_or_none(event.get("deaths_civilians")),
                "unknown": number_or_none(event.get("deaths_unknown")),
            },
            "source_headline": value("source_headline"),
            "source_original": value("source_original"),
        },
    }


def event_row(event: dict[str, Any]) -> str:
    """The labelled data row that stands in for text (see the module docstring)."""
    fields = event_fields(event)
    coded = fields["event"]
    precision = DATE_PRECISION.get(coded["date_precision"] or 0)
    sides = " vs ".join(coded["actors"]) or "unknown sides"
    conflict = f" ({coded['conflict']})" if coded["conflict"] else ""
    parts = [
        f"UCDP GED coded event {fields['original_id']} (data, not a quote)",
        f"dates: {_dates(coded['date_start'], coded['date_end'])}" + (f" ({precision})" if precision else ""),
        f"place: {_place(event)}",
        f"sides: {sides}{conflict}",
        f"people killed: {deaths_text(coded['fatalities'])}",
    ]
    if fields["cites"]:
        parts.append("source article: " + "; ".join(c["name"] for c in fields["cites"]))
    if coded["source_headline"]:
        parts.append(f"source headline: {coded['source_headline']}")
    # One line, " · " between fields: the sentence splitter keeps the row whole.
    return " · ".join(" ".join(part.split()) for part in parts)


def deaths_text(fatalities: dict[str, Any]) -> str:
    """{"best": 12, "low": 10, "high": 15} -> "best 12 (low 10, high 15)"."""
    best, low, high = fatalities.get("best"), fatalities.get("low"), fatalities.get("high")
    if best is None:
        return "not coded"
    return f"best {best} (low {'?' if low is None else low}, high {'?' if high is None else high})"


def _dates(start: str | None, end: str | None) -> str:
    if start and end and start != end:
        return f"{start} to {end}"
    return start or end or "date not coded"


def _place(event: dict[str, Any]) -> str:
    parts: list[str] = []
    for name in ("where_description", "adm_2", "adm_1", "country"):
        text = " ".join(str(event.get(name) or "").split())
        if text and not any(text.lower() in part.lower() for part in parts):
            parts.append(text)
    return ", ".join(parts) or "place not coded"
