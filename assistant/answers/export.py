"""Answers as Markdown and CSV for a reporter's notes: quote, publisher, whom it cites, date, link.

Pure: answers and the documents they quote in, text out. Who wrote the words is the
document's `publisher` field when it has one (the conflict-news archive: "Wikipedia
Portal:Current events" summarising the outlets it cites), else the document's
source; `cites` is then the outlets the document names as its sources. Each quote is
exported exactly as stored, in quotation marks, with its original link (with the
text fragment that highlights the sentence) or, when it has none, the in-app link.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answers.citations import NEAREST_LABEL, NOT_ANSWERED, quote_link
from assistant.records import Answer, Document, Quote

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


def _attribution(quote: Quote, document: Document | None) -> tuple[str, str]:
    """(publisher, cites) for `quote` of `document` (see the module docstring)."""
    publisher = str(document.metadata.get("publisher") or "").strip() if document else ""
    if publisher and publisher != quote.source:
        return publisher, quote.source
    return quote.source, ""


def export_rows(answer: Answer, document: Callable[[str], Document | None], *,
                app_link: Callable[[Quote], str] | None = None) -> list[ExportRow]:
    """The answer's quotes as rows (none when it is not answered). `document` looks a doc id up;
    `app_link` gives the in-app link used when a quote has no original http(s) link."""
    rows = []
    for quote in answer.quotes if answer.answered else ():
        publisher, cites = _attribution(quote, document(quote.doc_id))
        link = quote_link(quote) or (app_link(quote) if app_link else "")
        rows.append(ExportRow(question=answer.question, quote=quote.text, publisher=publisher, cites=cites,
                              date=quote.published or "", title=quote.title, link=link))
    return rows


def _md_escape(text: str) -> str:
    """Text that Markdown shows as written (link and emphasis characters escaped)."""
    return "".join("\\" + char if char in "\\`*_[]<" else char for char in text)


def answer_markdown(answer: Answer, document: Callable[[str], Document | None], *,
                    link: str | None = None, app_link: Callable[[Quote], str] | None = None) -> str:
    """One answer as Markdown: the question as a heading, each quote in quotation marks with
    its attribution and link; `link` (the answer's permalink) is added under the heading."""
    lines = [f"## {_md_escape(answer.question)}", ""]
    if link:
        lines += [f"Asked at: <{link}>", ""]
    rows = export_rows(answer, document, app_link=app_link)
    if not rows:
        lines.append(NOT_ANSWERED)
        if answer.nearest:
            lines.append(f"({NEAREST_LABEL} They are not exported.)")
        return "\n".join(lines) + "\n"
    for number, row in enumerate(rows, start=1):
        cites = f", citing {_md_escape(row.cites)}" if row.cites else ""
        where = f" <{row.link}>" if row.link else ""
        lines.append(f"{number}. “{_md_escape(row.quote)}” — {_md_escape(row.publisher)}{cites}, "
                     f"{row.date or 'date unknown'}, *{_md_escape(row.title)}*.{where}")
    return "\n".join(lines) + "\n"


def conversation_markdown(answers: Sequence[tuple[Answer, str | None]],
                          document: Callable[[str], Document | None], *,
                          app_link: Callable[[Quote], str] | None = None) -> str:
    """Several (answer, permalink) pairs as one Markdown document, in the order asked."""
    parts = ["# Answers quoted from the reporting", ""]
    parts += [answer_markdown(answer, document, link=link, app_link=app_link) for answer, link in answers]
    return "\n".join(parts)


def answers_csv(answers: Sequence[Answer], document: Callable[[str], Document | None], *,
                app_link: Callable[[Quote], str] | None = None) -> str:
    """Every quote of `answers` as CSV rows under a CSV_COLUMNS header (RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for answer in answers:
        for row in export_rows(answer, document, app_link=app_link):
            writer.writerow([getattr(row, column) for column in CSV_COLUMNS])
    return buffer.getvalue()
