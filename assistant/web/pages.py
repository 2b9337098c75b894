"""Plain HTML pages the app serves beside the chat: a stored article, and the API reference.

Both are rendered on the server from escaped text and need no script: the article
page scrolls to the quoted sentence with a `#quote` fragment, and the API page
is built from the app's OpenAPI document instead of Swagger UI from a CDN.
"""

from __future__ import annotations

from typing import Any

from assistant.answers.citations import http_url, link_with_fragment
from assistant.records import Document
from assistant.web.answer_schema import answer_schema_html
from assistant.web.ui import APP_TITLE, attribution_line, display_date, esc, license_html, text_direction

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title><link rel="stylesheet" href="/cqa-static/source.css"></head>
<body><main>{body}</main></body></html>
"""


def quote_span(text: str, start: int | None, end: int | None) -> tuple[int, int] | None:
    """(start, end) when it is a non-empty range inside `text`, else None (no highlight)."""
    if start is None or end is None or not 0 <= start < end <= len(text):
        return None
    return start, end


def source_page(document: Document | None, start: int | None, end: int | None) -> str:
    """The whole stored article with text[start:end] marked as `#quote`; a short notice if absent."""
    if document is None:
        body = ('<p class="notice">This article is not in the index (it may have been removed by '
                f'a rebuild).</p><p><a href="/">Back to {esc(APP_TITLE)}</a></p>')
        return _PAGE.format(title=esc(f"Article not found — {APP_TITLE}"), body=body)
    text = document.text
    span = quote_span(text, start, end)
    if span:
        article = (f"{esc(text[:span[0]])}<mark id=\"quote\">{esc(text[span[0]:span[1]])}</mark>"
                   f"{esc(text[span[1]:])}")
    else:
        article = esc(text)
    attribution = document.attribution
    meta = [f'<span class="outlet">{attribution_line(attribution)}</span>',
            f"<time>{esc(display_date(document.published))}</time>"]
    if document.author:
        meta.append(f"<span>{esc(document.author)}</span>")
    # Only the publisher's own page holds these words; a cited report is linked plainly above.
    page = (link_with_fragment(attribution.publisher_url, text[span[0]:span[1]]) if span
            else http_url(attribution.publisher_url))
    if page:
        meta.append(f'<a class="publisher-page" href="{esc(page)}" rel="noopener noreferrer" '
                    'target="_blank">read on the publisher\'s page ↗</a>')
    note = ('<p class="note">The highlighted sentence is the one quoted in the answer.</p>'
            if span else "")
    credit = f'<p class="license">Text: {attribution_line(attribution)} · {license_html(attribution.license)}</p>'
    note = _provenance(document) + note
    body = (f'<p class="back"><a href="/">← {esc(APP_TITLE)}</a></p>'
            f"<h1{text_direction(document.language)}>{esc(document.title)}</h1>"
            f"<p class=\"meta\">{' · '.join(meta)}</p>{note}"
            f'<article class="text"{text_direction(document.language)}>{article}</article><footer>{credit}</footer>')
    return _PAGE.format(title=esc(f"{document.title} — {APP_TITLE}"), body=body)


def _provenance(document: Document) -> str:
    """When and from where `conflict-qa fetch` got the report, and every other place it was seen."""
    metadata = document.metadata
    lines = []
    if metadata.get("kind") == "coded-event":
        lines.append("This is a coded event from a data set, not a report: the text below is its data "
                     "row, written by this tool from the coded columns.")
    if metadata.get("fetched"):
        fetched = str(metadata["fetched"]).replace("T", " ").replace("Z", " UTC")
        lines.append(f"Fetched {esc(fetched)} from {_link(metadata.get('fetched_from'))}.")
    places = [seen.get("url") for seen in metadata.get("seen_in", []) if isinstance(seen, dict)]
    others = [url for url in places if url and url != document.url]
    if others:
        lines.append("Also seen at: " + ", ".join(_link(url) for url in others) + ".")
    return "".join(f'<p class="provenance">{line}</p>' for line in lines)


def _link(url: Any) -> str:
    safe = http_url(url) if isinstance(url, str) else None
    if safe is None:
        return esc(str(url or "an unknown source"))
    return f'<a href="{esc(safe)}" rel="noopener noreferrer" target="_blank">{esc(safe)}</a>'


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_name(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items', {}))}"
    return str(schema.get("type", "any"))


def api_docs_page(openapi: dict[str, Any]) -> str:
    """A readable list of the /api routes, their parameters and body fields, from `openapi`."""
    sections = []
    schemas = openapi.get("components", {}).get("schemas", {})
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            rows = [f"<tr><td><code>{esc(p['name'])}</code></td><td>{esc(p.get('in', ''))}</td>"
                    f"<td>{esc(_schema_name(p.get('schema', {})))}</td>"
                    f"<td>{esc(p.get('description', ''))}</td></tr>"
                    for p in operation.get("parameters", [])]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            model = schemas.get(_schema_name(body.get("schema", {})), {}) if body else {}
            rows += [f"<tr><td><code>{esc(name)}</code></td><td>body</td>"
                     f"<td>{esc(_schema_name(field))}</td><td>{esc(field.get('description', ''))}</td></tr>"
                     for name, field in model.get("properties", {}).items()]
            table = ("<table><tr><th>name</th><th>in</th><th>type</th><th>meaning</th></tr>"
                     f"{''.join(rows)}</table>" if rows else "")
            sections.append(f"<section><h2><code>{esc(method.upper())} {esc(path)}</code></h2>"
                            f"<p>{esc(operation.get('summary', ''))}. "
                            f"{esc(operation.get('description', ''))}</p>{table}</section>")
    body = (f"<h1>{esc(openapi.get('info', {}).get('title', 'API'))}</h1>"
            f"<p>{esc(openapi.get('info', {}).get('description', ''))} The machine-readable "
            'description is <a href="/openapi.json">/openapi.json</a>.</p>' + "".join(sections)
            + answer_schema_html(esc))
    return _PAGE.format(title=esc(f"API — {APP_TITLE}"), body=body)
