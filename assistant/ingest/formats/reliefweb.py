"""ReliefWeb API v1 `reports` results (https://apidoc.reliefweb.int), as JSON.

A response is {"href": ..., "data": [{"id": "4012345", "fields": {...}}, ...]}. One record
per report, with fields asked for by `fields[include][]`:

- id: "reliefweb-" + the report id, so a re-import updates the report.
- url: `url_alias` (the readable page), else `url`.
- text: `body` (ReliefWeb's plain text), else `body-html` cleaned by trafilatura. A report
  without either (only a title was asked for) keeps its title and `kind: headline`.
- published: `date.original` (when the publisher issued it), else `date.created`.
- source and publisher: the `source` organisations' names; countries: `country` names,
  the primary one first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from assistant.ingest.formats import FormatError, FormatProblem, FormatRecord, clean_html

NAME = "reliefweb"
SUFFIXES = (".json", ".json.gz")

_SIGNATURE = re.compile(rb'\A\{.*"(?:href|data)"', re.DOTALL)


def sniff(head: bytes) -> bool:
    """A JSON object that names the ReliefWeb API, or has `data` entries with `fields`."""
    if not _SIGNATURE.match(head):
        return False
    lowered = head.lower()
    return b"api.reliefweb.int" in lowered or (b'"data"' in head and b'"fields"' in head
                                               and b'"body' in head)


def parse(raw: bytes) -> Iterator[FormatRecord | FormatProblem]:
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormatError(f"malformed ReliefWeb JSON: {error}") from None
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise FormatError("ReliefWeb JSON without a 'data' list")
    for position, item in enumerate(items, start=1):
        fields = item.get("fields") if isinstance(item, dict) else None
        if not isinstance(fields, dict):
            yield FormatProblem(reason="ReliefWeb item without 'fields'", line=position)
            continue
        yield _record(str(item.get("id") or fields.get("id") or ""), fields, position)


def _record(report_id: str, fields: dict[str, Any], position: int) -> FormatRecord | FormatProblem:
    title = " ".join(str(fields.get("title") or "").split()) or None
    body = fields.get("body")
    text = clean_html(body) if isinstance(body, str) and body.strip() else ""
    if not text and isinstance(fields.get("body-html"), str):
        text = clean_html(fields["body-html"])
    kind = "report"
    if not text:
        if not title:
            return FormatProblem(reason="ReliefWeb report without title or body", line=position)
        text, kind = title, "headline"
    dates = fields.get("date") if isinstance(fields.get("date"), dict) else {}
    sources = [s.get("name") or s.get("shortname") for s in _dicts(fields.get("source"))]
    sources = [name for name in sources if name]
    countries = sorted(_dicts(fields.get("country")), key=lambda c: not c.get("primary"))
    languages = [lang.get("code") for lang in _dicts(fields.get("language")) if lang.get("code")]
    record = {
        "id": f"reliefweb-{report_id}" if report_id else None,
        "title": title,
        "url": fields.get("url_alias") or fields.get("url"),
        "published": dates.get("original") or dates.get("created"),
        "source": "; ".join(sources) or None,
        "publisher": "; ".join(sources) or None,
        "format": NAME,
        "kind": kind,
        "original_id": report_id or None,
        "countries": [c.get("name") for c in countries if c.get("name")],
        "language": languages[0] if len(languages) == 1 else None,
        "report_format": [f.get("name") for f in _dicts(fields.get("format")) if f.get("name")],
    }
    return FormatRecord(fields={key: value for key, value in record.items()
                                if value not in (None, "", [])}, text=text, line=position)


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
