"""Coded events beside the quotes: a UCDP or ACLED record shown as a data row, never as a quotation.

A UCDP GED event has no author's words: its text is a data row written by this tool
(`ingest/formats/ucdp.py`), so a "quote" from it is shown as that row, labelled as a coded
event, with its death estimates as "best 12 (low 10, high 15)". An ACLED event's notes are
the coder's words and stay a quotation; its coded fields (date, place, reported
fatalities) are shown next to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from assistant.ingest.formats.ucdp import deaths_text
from assistant.records import Answer, Document, Quote

CODED_EVENT = "coded-event"
DATASETS = {"ucdp-ged": "UCDP GED", "acled": "ACLED"}


def event_row(document: Document) -> dict[str, Any] | None:
    """The coded fields of `document` as one JSON-ready row, or None when it is no event."""
    metadata = document.metadata
    event = metadata.get("event")
    if not isinstance(event, dict):
        return None
    fatalities = event.get("fatalities") if isinstance(event.get("fatalities"), dict) else {}
    if "best" in fatalities:
        deaths = deaths_text(fatalities)
    elif fatalities.get("reported") is not None:
        deaths = f"{fatalities['reported']} reported"
    else:
        deaths = "not coded"
    place_parts: list[str] = []
    for part in (event.get("place"), event.get("admin2"), event.get("admin1"), event.get("country")):
        if part and not any(str(part).lower() in seen.lower() for seen in place_parts):
            place_parts.append(str(part))
    return {
        "dataset": DATASETS.get(str(metadata.get("format")), str(metadata.get("format") or "data set")),
        "event_id": metadata.get("original_id"),
        "coded": metadata.get("kind") == CODED_EVENT,
        "date_start": event.get("date_start"), "date_end": event.get("date_end"),
        "date_precision": event.get("date_precision"),
        "place": ", ".join(place_parts) or None, "country": event.get("country"),
        "sides": list(event.get("actors") or []),
        "deaths": deaths, "fatalities": fatalities,
        "sources": [cited.name for cited in document.cites],
    }


def event_line(row: Mapping[str, Any]) -> str:
    """One line for a terminal or a chat: "UCDP GED event 7 · 2020-05-01 to 2020-05-03 · Ndele ·
    A vs B · deaths best 3 (low 2, high 4) · source: Radio Ndeke Luka"."""
    start, end = row.get("date_start"), row.get("date_end")
    dates = f"{start} to {end}" if start and end and start != end else (start or end or "date not coded")
    parts = [f"{row['dataset']} event {row.get('event_id') or ''}".strip(), dates, row.get("place") or "place not coded"]
    if row.get("sides"):
        parts.append(" vs ".join(row["sides"]))
    parts.append(f"deaths {row['deaths']}")
    if row.get("sources"):
        parts.append("source: " + "; ".join(row["sources"]))
    return " · ".join(parts)


def attach_events(answer: Answer, documents: Mapping[str, Document]) -> Answer:
    """`answer` with each quote (and nearest passage) from an event carrying its `event` row."""
    def with_event(quote: Quote) -> Quote:
        document = documents.get(quote.doc_id)
        row = event_row(document) if document is not None else None
        return dataclasses.replace(quote, event=row) if row is not None else quote

    if not any(documents.get(q.doc_id) is not None and "event" in documents[q.doc_id].metadata
               for q in (*answer.quotes, *answer.nearest)):
        return answer
    return dataclasses.replace(answer, quotes=tuple(map(with_event, answer.quotes)),
                               nearest=tuple(map(with_event, answer.nearest)))
