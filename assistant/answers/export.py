"""Answers as Markdown and CSV for a reporter's notes: quote, publisher, whom it cites, date, link.

Pure: answers in, text out. Who wrote the words and whom they cite come from each
quote's attribution, named as on every other surface (`citations.attribution_of`,
`ingest.outlets`): for the conflict-news archive "Wikipedia, Portal:Current events",
citing the outlets it summarises. Each quote is exported exactly as stored, in
quotation marks, with the publisher's page (with the text fragment that highlights the
sentence) or, when the page holding the words is unknown, the in-app link.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answers.citations import (
    NEAREST_LABEL, NO_MORE_QUOTES, NOT_ANSWERED, attribution_of, no_more_quotes, quote_link,
)
from assistant.ingest.outlets import cited_outlets, publisher_name
from assistant.records import Answer, Quote

CSV_COLUMNS = ("question", "quote", "publisher", "cites", "date", "title", "link")


@dataclass(frozen=True, kw_only=True)
class ExportRow:
    """One quote of one answer, flattened."""

    question: str
    quote: str
    publisher: str
    cites: str
    date: str
    title: str
    link: str


def _attribution(quote: Quote) -> tuple[str, str]:
    """(publisher, the cited outlets joined by ", ") of `quote`."""
    attribution = attribution_of(quote)
    return (publisher_name(attribution.publisher),
            ", ".join(outlet.name for outlet in cited_outlets(attribution.cites)))


def export_rows(answer: Answer, *, app_link: Callable[[Quote], str] | None = None) -> list[ExportRow]:
    """The answer's quotes as rows (none when it is not answered); `app_link` gives the in-app
    link used when the page holding a quote's words is unknown."""
    rows = []
    for quote in answer.quotes if answer.answered else ():
        publisher, cites = _attribution(quote)
        link = quote_link(quote) or (app_link(quote) if app_link else "")
        rows.append(ExportRow(question=answer.question, quote=quote.text, publisher=publisher, cites=cites,
                              date=quote.published or "", title=quote.title, link=link))
    return rows


def _md_escape(text: str) -> str:
    """Text that Markdown shows as written (link and emphasis characters escaped)."""
    return "".join("\\" + char if char in "\\`*_[]<" else char for char in text)


def answer_markdown(answer: Answer, *, link: str | None = None,
                    app_link: Callable[[Quote], str] | None = None) -> str:
    """One answer as Markdown: the question as a heading, each quote in quotation marks with
    its attribution and link; `link` (the answer's permalink) is added under the heading."""
    lines = [f"## {_md_escape(answer.question)}", ""]
    if link:
        lines += [f"Asked at: <{link}>", ""]
    rows = export_rows(answer, app_link=app_link)
    if not rows and no_more_quotes(answer):
        lines.append(NO_MORE_QUOTES)
        return "\n".join(lines) + "\n"
    if not rows:
        lines.append(NOT_ANSWERED)
        if answer.nearest:
            lines.append(f"({NEAREST_LABEL} They are not exported.)")
        return "\n".join(lines) + "\n"
    numbers = [quote.marker or position for position, quote in enumerate(answer.quotes, start=1)]
    for number, row in zip(numbers, rows):
        cites = f", citing {_md_escape(row.cites)}" if row.cites else ""
        where = f" <{row.link}>" if row.link else ""
        lines.append(f"{number}. “{_md_escape(row.quote)}” — {_md_escape(row.publisher)}{cites}, "
                     f"{row.date or 'date unknown'}, *{_md_escape(row.title)}*.{where}")
    return "\n".join(lines) + "\n"


def conversation_markdown(answers: Sequence[tuple[Answer, str | None]], *,
                          app_link: Callable[[Quote], str] | None = None) -> str:
    """Several (answer, permalink) pairs as one Markdown document, in the order asked."""
    parts = ["# Answers quoted from the reporting", ""]
    parts += [answer_markdown(answer, link=link, app_link=app_link) for answer, link in answers]
    return "\n".join(parts)


def answers_csv(answers: Sequence[Answer], *, app_link: Callable[[Quote], str] | None = None) -> str:
    """Every quote of `answers` as CSV rows under a CSV_COLUMNS header (RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for answer in answers:
        for row in export_rows(answer, app_link=app_link):
            writer.writerow([getattr(row, column) for column in CSV_COLUMNS])
    return buffer.getvalue()
