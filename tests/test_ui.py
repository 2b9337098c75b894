"""The chat as a reader sees it: quoted, cited answers, inert hostile text, the widget.

The first tests check the rendered HTML directly; the `browser` tests drive
headless Chromium against `python app.py` (fixtures in conftest.py) and save
screenshots to test-output/.
"""

from __future__ import annotations

import re
import time

import pytest

from assistant.records import Answer, Figure, Quote
from assistant.web.ui import render_answer, render_question

BELGOROD = "How many people were killed in Belgorod?"
BELGOROD_SENTENCE = "said they killed 18 people, including three children"


def make_quote(**overrides: object) -> Quote:
    fields = dict(text="Officials said 18 people were killed.", doc_id="doc-1", title="Strike report",
                  source="Example News", url="https://example.org/a", published="2024-05-12",
                  start=10, end=47, score=1.0, context_before="A strike hit the city.",
                  context_after="Rescue work continued.", marker=1)
    fields.update(overrides)
    return Quote(**fields)


def test_answer_shows_block_quotes_with_markers_context_and_sources() -> None:
    html = render_answer(Answer(question="q", answered=True, quotes=(make_quote(),)))

    assert '<blockquote class="cqa-quote">' in html
    assert 'href="/source/doc-1?start=10&amp;end=47#quote"' in html  # opens the article in the app
    assert ">[1]</a>" in html
    assert '<span class="cqa-context">A strike hit the city.</span>' in html
    assert "Example News" in html and "12 May 2024" in html
    assert 'href="https://example.org/a#:~:text=Officials%20said%2018%20people%20were%20killed."' in html


def test_hostile_document_text_is_escaped_and_script_links_dropped() -> None:
    quote = make_quote(text="<script>alert(1)</script> <img src=x onerror=alert(2)>",
                       title="<b>t</b>", source="<i>o</i>", url="javascript:alert(3)",
                       context_after="[x](javascript:alert(4))")
    html = render_answer(Answer(question="q", answered=True, quotes=(quote,)))

    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html.replace("[x](javascript:alert(4))", "")
    assert 'href="javascript' not in html
    assert "<script" not in render_question("<script>alert(1)</script>")


def test_unanswered_question_says_so_and_labels_nearest_passages() -> None:
    html = render_answer(Answer(question="q", answered=False, nearest=(make_quote(marker=0),)))

    assert "does not answer" in html
    assert "they do not answer the question" in html
    assert 'class="cqa-quote cqa-nearest"' in html


def test_each_kind_of_decline_has_its_own_wording() -> None:
    from assistant.records import AnswerStatus

    missing = render_answer(Answer(question="q", answered=False, nearest=(make_quote(marker=0),),
                                   status=AnswerStatus.DETAIL_MISSING))
    assert "no report gives the detail asked for" in missing
    assert "they do not give the detail asked for" in missing and "do not answer the question" not in missing
    assert 'class="cqa-quote cqa-nearest"' in missing
    vague = render_answer(Answer(question="Who is responsible?", answered=False, status=AnswerStatus.TOO_VAGUE))
    assert "Please be more specific" in vague and "cqa-quote" not in vague
    assert "does not answer" not in vague


def test_a_request_to_be_more_specific_has_no_copy_link_or_export_tools() -> None:
    from assistant.records import AnswerStatus
    from assistant.web.ui import respond

    class Asked:
        def __init__(self, status: AnswerStatus) -> None:
            self.status = status

        def ask(self, question, **_) -> Answer:
            nearest = (make_quote(marker=0),) if self.status is AnswerStatus.DETAIL_MISSING else ()
            return Answer(question=question, answered=False, nearest=nearest, status=self.status)

    vague = respond(Asked(AnswerStatus.TOO_VAGUE), "Who is responsible?", None, None, None)
    assert "Please be more specific" in vague and "cqa-tools" not in vague and "Link to this answer" not in vague
    missing = respond(Asked(AnswerStatus.DETAIL_MISSING), "How many died?", None, None, None)
    assert "Link to this answer" in missing  # a decline with nearest passages keeps its permalink


def test_figures_are_compared_only_across_reports_of_one_event() -> None:
    killed = lambda low, start: (Figure(category="killed", low=low, high=low, start=start,  # noqa: E731
                                        end=start + len(str(low)) + 7),)
    one = make_quote(figures=killed(18, 15), title="Belgorod strikes", published="2024-05-12",
                     text="Officials said 18 people were killed in Belgorod.")
    other = make_quote(doc_id="doc-2", source="Other Wire", marker=2, figures=killed(24, 15),
                       text="Officials said 24 people were killed in Belgorod.", title="Belgorod strikes",
                       published="2024-05-13")
    elsewhere = make_quote(doc_id="doc-3", source="Third Wire", marker=3, figures=killed(5, 15),
                           text="Officials said 5 people were killed in Kherson.", title="Kherson strikes",
                           published="2024-05-13")

    assert "cqa-compare" not in render_answer(Answer(question="q", answered=True, quotes=(one, elsewhere)))
    table = render_answer(Answer(question="q", answered=True, quotes=(one, other, elsewhere)))
    assert table.count('class="cqa-compare"') == 1 and "Third Wire</th>" not in table
    assert re.search(r"<th>killed</th><td>18 \[1\]</td><td>24 \[2\]</td></tr>", table)
    assert ('<p class="cqa-differ">The reports differ (killed): Example News (2024-05-12) gives 18; '
            'Other Wire (2024-05-13) gives 24.</p>') in table
    assert table.index("cqa-differ") < table.index("<table>")
    assert '<strong class="cqa-figure">18 people</strong>' in table


def ask_in_chat(page: object, question: str) -> object:
    """Type `question`, press Enter, and return the newest answer once it is shown.

    `page` is a Playwright Page or Frame (the widget's iframe)."""
    answers = page.locator("#cqa-chat .cqa-answer, #cqa-chat .cqa-refusal")
    before = answers.count()
    box = page.locator("#cqa-question textarea")
    box.wait_for(timeout=60_000)
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#cqa-chat .cqa-answer, #cqa-chat .cqa-refusal').length > n",
        arg=before, timeout=60_000)
    return answers.nth(before)


@pytest.mark.browser
def test_chat_answers_with_a_cited_quote_that_opens_the_article(app_server, watched_page,
                                                                screenshot_dir) -> None:
    page = watched_page.page
    page.goto(app_server.url + "/")
    page.locator("#cqa-chat .cqa-overview").wait_for(timeout=60_000)  # what the archive holds
    answer = ask_in_chat(page, BELGOROD)

    assert BELGOROD_SENTENCE in answer.locator("blockquote").first.inner_text()
    assert "JURIST" in answer.locator(".cqa-sources").inner_text()
    time.sleep(0.5)
    page.screenshot(path=str(screenshot_dir / "chat.png"))

    with page.context.expect_page() as opened:
        answer.locator("a.cqa-marker").first.click()
    article = opened.value
    article.wait_for_load_state()
    marked = article.locator("mark#quote")
    assert BELGOROD_SENTENCE in marked.inner_text()
    assert marked.evaluate("m => { const r = m.getBoundingClientRect(); "
                           "return r.top >= 0 && r.bottom <= window.innerHeight; }")
    assert watched_page.offsite_requests() == []


@pytest.mark.browser
def test_hostile_document_and_question_render_as_text(app_server, watched_page) -> None:
    page = watched_page.page
    page.goto(app_server.url + "/")
    hostile_question = "<img src=x onerror=alert('question')> How many people were killed in Kharkiv?"
    answer = ask_in_chat(page, hostile_question)
    time.sleep(1.0)  # give any injected handler time to fire

    chat = page.locator("#cqa-chat")
    assert "<script>alert('body')</script>" in answer.inner_text()
    assert "<img src=x onerror=alert('question')>" in chat.inner_text()
    assert chat.locator("img[src='x'], script, a[href^='javascript']").count() == 0
    page.goto(f"{app_server.url}/source/hostile-kharkiv-report")
    assert "<img src=x onerror=alert('title')>" in page.locator("h1").inner_text()
    time.sleep(0.5)
    assert watched_page.dialogs == []


@pytest.mark.browser
def test_a_long_question_is_refused_with_a_message(app_server, watched_page) -> None:
    page = watched_page.page
    page.goto(app_server.url + "/")
    refusal = ask_in_chat(page, "Why? " * 250)

    assert "too long" in refusal.inner_text()


@pytest.mark.browser
def test_widget_on_another_origin_opens_the_chat_and_answers(app_server, static_host, watched_page,
                                                             screenshot_dir) -> None:
    page = watched_page.page
    page.goto(f"{static_host}/embed.html?server={app_server.url}")
    launcher = page.locator("[data-conflict-qa-widget] .launcher")
    assert launcher.inner_text() == "Ask the reporting"
    launcher.click()
    frame = page.locator("[data-conflict-qa-widget] iframe").element_handle().content_frame()
    answer = ask_in_chat(frame, BELGOROD)

    assert BELGOROD_SENTENCE in answer.inner_text()
    assert answer.locator("a.cqa-marker").first.get_attribute("href").startswith("/source/")
    time.sleep(0.5)
    page.screenshot(path=str(screenshot_dir / "widget.png"))
    assert watched_page.offsite_requests() == []
    assert watched_page.dialogs == []
