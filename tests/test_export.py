"""Answers exported as Markdown and CSV: the quote verbatim, publisher, whom it cites, date, link."""

from __future__ import annotations

import csv
import io

from assistant.answers.export import CSV_COLUMNS, answer_markdown, answers_csv, conversation_markdown
from assistant.records import Answer, CitedReport, Document, Quote

PORTAL_PAGE = "https://en.wikipedia.org/wiki/Portal:Current_events/2025_January_1"
PORTAL = Document(id="wcep-1", title="Gaza war > Airstrikes", source="Al Jazeera", url="https://example.org/a",
                  published="2025-01-01", text="Israeli airstrikes kill at least 26 Palestinians, *officials* say.",
                  publisher="Wikipedia Portal:Current events", publisher_url=PORTAL_PAGE,
                  cites=(CitedReport(name="Al Jazeera", url="https://example.org/a"),), license="CC BY-SA 4.0")
JURIST = Document(id="jurist-1", title="Belgorod strikes", source="JURIST", url=None, published="2023-12-31",
                  text="The strikes killed 18 people.")


def quote_of(document: Document, marker: int) -> Quote:
    return Quote(text=document.text, doc_id=document.id, title=document.title, source=document.source,
                 url=document.url, published=document.published, start=0, end=len(document.text), score=1.0,
                 marker=marker, attribution=document.attribution)


ANSWER = Answer(question="How many were killed?", answered=True, quotes=(quote_of(PORTAL, 1), quote_of(JURIST, 2)))


def app_link(quote: Quote) -> str:
    return f"http://127.0.0.1:7860/source/{quote.doc_id}"


def test_markdown_quotes_each_sentence_with_attribution_and_link() -> None:
    text = answer_markdown(ANSWER, link="http://127.0.0.1:7860/?q=x", app_link=app_link)

    assert text.startswith("## How many were killed?\n\nAsked at: <http://127.0.0.1:7860/?q=x>\n")
    assert ("1. “Israeli airstrikes kill at least 26 Palestinians, \\*officials\\* say.” — "
            "Wikipedia, Portal:Current events, citing Al Jazeera, 2025-01-01, *Gaza war > Airstrikes*. "
            f"<{PORTAL_PAGE}#:~:text=") in text
    assert "example.org/a#:~:" not in text  # a cited report never gets the highlight link
    # No original link: the in-app article link instead; the publisher is the outlet itself.
    assert "2. “The strikes killed 18 people.” — JURIST, 2023-12-31, *Belgorod strikes*. " \
           "<http://127.0.0.1:7860/source/jurist-1>" in text
    assert "<blockquote" not in text and "<a " not in text


def test_unanswered_question_exports_no_quotes() -> None:
    nearest = Answer(question="Who won?", answered=False, nearest=(quote_of(JURIST, 0),))

    text = answer_markdown(nearest)
    assert "The corpus does not answer this question." in text and "18 people" not in text
    assert answers_csv([nearest]).splitlines() == [",".join(CSV_COLUMNS)]


def test_csv_has_one_row_per_quote_with_the_exact_text() -> None:
    rows = list(csv.DictReader(io.StringIO(answers_csv([ANSWER, ANSWER], app_link=app_link))))

    assert len(rows) == 4
    assert rows[0]["quote"] == PORTAL.text and rows[0]["publisher"] == "Wikipedia, Portal:Current events"
    assert rows[0]["cites"] == "Al Jazeera" and rows[0]["date"] == "2025-01-01"
    assert rows[1]["publisher"] == "JURIST" and rows[1]["cites"] == ""
    assert rows[1]["link"] == "http://127.0.0.1:7860/source/jurist-1"


def test_conversation_keeps_the_order_asked() -> None:
    other = Answer(question="Second question?", answered=True, quotes=(quote_of(JURIST, 1),))
    text = conversation_markdown([(ANSWER, None), (other, None)])

    assert text.index("## How many were killed?") < text.index("## Second question?")


def test_a_later_page_is_exported_with_its_own_numbers_and_an_empty_one_says_there_are_no_more() -> None:
    page_two = Answer(question="How many were killed?", answered=True, page=2,
                      quotes=(quote_of(PORTAL, 4), quote_of(JURIST, 5)))
    text = answer_markdown(page_two, app_link=app_link)
    assert "\n4. “Israeli airstrikes" in text and "\n5. “The strikes killed 18 people.”" in text

    empty = Answer(question="How many were killed?", answered=True, page=3)
    text = answer_markdown(empty)
    assert "No more quotes: every quote that answers this question is on the earlier pages." in text
    assert "does not answer" not in text
    assert answers_csv([empty]).splitlines() == [",".join(CSV_COLUMNS)]
