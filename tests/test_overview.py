"""The first screen: what the archive holds, and example questions the index answers."""

from __future__ import annotations

from assistant.records import Document
from assistant.web.overview import (
    archive_overview, example_candidates, overview_lines, pick_examples, render_overview,
)


def doc(doc_id: str, *, thread: list[str] | None = None, published: str | None = "2025-03-02",
        source: str = "Reuters", publisher: str = "", **metadata: object) -> Document:
    extra = dict(metadata, **({"thread": thread} if thread else {}))
    return Document(id=doc_id, title=" > ".join(thread or [doc_id]), source=source, url=None,
                    published=published, text="Text.", metadata=extra, publisher=publisher)


def test_overview_counts_reports_publishers_outlets_and_dates() -> None:
    # The publisher wrote the words; the outlets it cites (its `source`) are not publishers.
    documents = [doc("a", source="Al Jazeera; Reuters", publisher="Wikipedia Portal:Current events",
                     published="2025-01-01"),
                 doc("b", source="Reuters", publisher="Wikipedia Portal:Current events", published="2026-08-22"),
                 doc("c", source="JURIST", published=None)]
    lines = overview_lines(archive_overview(documents, outlets=2, updated="2026-11-30T14:10:00Z"))

    assert lines[0] == ("3 reports from 2 publishers (Wikipedia, Portal:Current events (2), JURIST (1)), "
                        "citing 2 outlets.")
    assert lines[1] == "Published 1 January 2025 to 22 August 2026 (1 undated)."
    assert lines[-1] == "Last updated 30 November 2026, 14:10 UTC."
    assert not any(line.startswith("Languages") for line in lines)  # no document records one


def test_overview_shows_languages_only_when_the_index_has_them() -> None:
    documents = [doc("a", language="en"), doc("b", language="en"), doc("c", language="fr")]
    lines = overview_lines(archive_overview(documents, outlets=1, updated=None))

    assert "Languages: en (2), fr (1)." in lines


def test_overview_html_escapes_names() -> None:
    html = render_overview(archive_overview([doc("a", source="<b>x</b>")], outlets=1, updated=None))

    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_examples_come_from_the_most_reported_threads_then_titles() -> None:
    documents = [doc("g1", thread=["Gaza war", "Airstrikes"]), doc("g2", thread=["Gaza war", "Airstrikes"]),
                 doc("s1", thread=["Sudanese civil war"]), doc("old", published="2020-01-01"),
                 doc("new", published="2026-01-01")]

    assert example_candidates(documents) == [
        "What was reported about the Airstrikes?", "What was reported about the Sudanese civil war?",
        'What was reported about "new"?', 'What was reported about "old"?']


def test_only_answered_examples_are_kept() -> None:
    asked: list[str] = []

    def answered(question: str) -> bool:
        asked.append(question)
        return "b" not in question

    assert pick_examples(["a", "b", "c", "d", "e"], answered, count=3) == ("a", "c", "d")
    assert asked == ["a", "b", "c", "d"]  # stops once three are found
    assert pick_examples(["b"] * 20, answered, count=3, limit=5) == ()
    assert len(asked) == 4 + 5
