"""Permalinks, export links and the date check of the chat (assistant/web/layout.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from assistant.web.layout import AskedWith, answer_tools, conversation_links, date_problem, permalink, permalink_fields


def test_permalink_round_trips_question_and_filters() -> None:
    asked = AskedWith(question="Strikes on Sumy & Kharkiv?", sources=("Reuters", "AP"), since="2025-06",
                      until="2025-06-30")
    link = permalink(asked)

    assert link.startswith("/?q=Strikes+on+Sumy+%26+Kharkiv%3F&sources=Reuters&sources=AP")
    assert permalink_fields(parse_qsl(urlsplit(link).query)) == asked
    assert permalink_fields([("sources", "AP")]) is None  # no question: nothing to ask


def test_answer_links_copy_link_and_export_the_same_question() -> None:
    html = answer_tools(AskedWith(question='<b>"x"</b>', since="2025"))

    assert 'href="/?q=%3Cb%3E%22x%22%3C%2Fb%3E&amp;since=2025"' in html
    assert 'class="cqa-copy" href="/export.md?q=%3Cb%3E%22x%22%3C%2Fb%3E&amp;since=2025"' in html
    assert 'href="/export.csv?q=' in html and "<b>" not in html
    assert conversation_links([]) == ""
    assert "(2 answers)" in conversation_links([AskedWith(question="a"), AskedWith(question="b")])


def test_dates_are_checked_in_plain_words() -> None:
    assert date_problem("2025-06", "2025-06-30") is None and date_problem("", None) is None
    unreadable = date_problem("31/06/2025", None)
    assert unreadable.startswith("“From” is not a date") and "--" not in unreadable
    assert date_problem("2025-07", "2025-06") == "“From” is after “Until”: swap them or clear one."


def test_permalink_carries_sort_and_page_and_reads_them_back() -> None:
    asked = AskedWith(question="Strikes on Gaza?", sort="date", page=2)
    link = permalink(asked)

    assert link == "/?q=Strikes+on+Gaza%3F&sort=date&page=2"
    assert permalink_fields(parse_qsl(urlsplit(link).query)) == asked
    assert permalink(AskedWith(question="Strikes on Gaza?")) == "/?q=Strikes+on+Gaza%3F"  # defaults left out
    assert permalink_fields([("q", "x"), ("page", "two")]).page == 0  # refused by the service when asked


def test_more_results_link_only_when_there_are_more_and_the_current_order_is_marked() -> None:
    asked = AskedWith(question="Strikes on Gaza?", sources=("Reuters",))
    more = answer_tools(asked, answered=True, more=True, shown=3)
    assert 'class="cqa-more" href="/?q=Strikes+on+Gaza%3F&amp;sources=Reuters&amp;page=2"' in more
    assert "No more quotes" not in more
    assert '<span class="cqa-sort-current" aria-current="true">Most relevant</span>' in more
    assert 'class="cqa-sort cqa-sort-date" href="/?q=Strikes+on+Gaza%3F&amp;sources=Reuters&amp;sort=date"' in more

    last = answer_tools(AskedWith(question="Strikes on Gaza?", page=2, sort="date-asc"), answered=True,
                        more=False, shown=2)
    assert "cqa-more" not in last and "No more quotes: the earlier pages hold all" in last
    assert '<span class="cqa-sort-current" aria-current="true">Oldest first</span>' in last
    assert "cqa-pager" not in answer_tools(asked)  # an unanswered question has nothing to page or sort
