"""The three ways the chat can reply besides a multi-quote answer, as a reader sees them in
Chromium at desktop (1366x900) and phone (390x844) sizes, each checked with axe-core:

- a one-quote answer: the other candidates do not pass the evidence test on their own;
- "detail missing": the reporting is about the question but no sentence gives the detail
  asked for, so no quote is given and the nearest passages are shown, labelled as not giving it;
- "be more specific": a question too vague to answer from the reporting gets no quote at all.

The app serves a small index of the seed JURIST article and the ten conflict-news items of
tests/data (never the default archive). Screenshots: test-output/answer-state-*.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from assistant.answers.citations import DETAIL_MISSING, DETAIL_NEAREST_LABEL, TOO_VAGUE
from test_newsroom_ui import serious_violations
from test_ui import ask_in_chat

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

ONE_QUOTE_QUESTION = "Who attacked the Tishrin Dam?"
TISHRIN_SENTENCE = "Clashes between the Kurdish-led Syrian Democratic Forces (SDF) and the Turkish-backed"
# The Tishrin Dam item names the sides but gives no casualty figure; the Latakia item gives
# one (52 executed), for another event.
DETAIL_QUESTION = "How many civilians were killed in the Tishrin Dam clashes?"
VAGUE_QUESTION = "Who is responsible?"


@pytest.fixture
def sample_app(sample_news_app: str) -> str:
    return sample_news_app


@pytest.fixture
def page_at(browser) -> Iterator[object]:
    """page_at(size name) -> a new page at that viewport (CSP bypassed so axe can be injected)."""
    contexts = []

    def make(size: str) -> object:
        phone = size == "phone"
        context = browser.new_context(viewport=SIZES[size], bypass_csp=True, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def ask(page: object, url: str, question: str) -> object:
    page.goto(url + "/")
    page.locator("#cqa-chat .cqa-overview").wait_for(timeout=120_000)
    reply = ask_in_chat(page, question)
    time.sleep(0.5)  # the chat scrolls to its end; then show the question and the reply's start
    page.locator("#cqa-chat .cqa-question").last.evaluate("element => element.scrollIntoView({block: 'start'})")
    time.sleep(0.3)
    return reply


def fits_the_screen(page: object, locator: object) -> bool:
    """No part of the reply is cut off sideways (a phone reader cannot scroll a chat bubble)."""
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_answer_may_be_one_quote(sample_app, page_at, screenshot_dir, axe_source, size) -> None:
    page = page_at(size)
    reply = ask(page, sample_app, ONE_QUOTE_QUESTION)
    quotes = reply.locator("blockquote.cqa-quote")
    assert quotes.count() == 1
    assert TISHRIN_SENTENCE in quotes.first.inner_text()
    # The Latakia clashes (another event in the same war) must not ride along as a second quote.
    assert "Latakia" not in reply.inner_text()
    assert reply.locator(".cqa-nearest, .cqa-notice").count() == 0
    assert "Wikipedia" in reply.locator(".cqa-sources").inner_text()
    assert fits_the_screen(page, quotes.first)
    page.screenshot(path=str(screenshot_dir / f"answer-state-one-quote-{size}.png"))
    assert serious_violations(page, axe_source) == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_missing_detail_shows_the_nearest_passages_labelled_as_not_giving_it(
        sample_app, page_at, screenshot_dir, axe_source, size) -> None:
    page = page_at(size)
    reply = ask(page, sample_app, DETAIL_QUESTION)
    assert DETAIL_MISSING in reply.locator(".cqa-notice").inner_text()
    assert reply.locator(".cqa-heading").first.text_content() == DETAIL_NEAREST_LABEL
    # No quote is offered as the answer: every passage shown is a nearest passage.
    assert reply.locator("blockquote.cqa-quote:not(.cqa-nearest)").count() == 0
    nearest = reply.locator("blockquote.cqa-nearest")
    assert nearest.count() >= 1
    assert TISHRIN_SENTENCE in nearest.first.inner_text()
    # A passage that does not answer makes no claim: its figures are not emphasised as answers.
    assert nearest.locator(".cqa-figure").count() == 0
    assert "Where these passages come from" in reply.text_content()
    assert fits_the_screen(page, reply)
    page.screenshot(path=str(screenshot_dir / f"answer-state-detail-missing-{size}.png"))
    assert serious_violations(page, axe_source) == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_vague_question_is_asked_to_be_more_specific(sample_app, page_at, screenshot_dir, axe_source,
                                                       size) -> None:
    page = page_at(size)
    reply = ask(page, sample_app, VAGUE_QUESTION)
    assert reply.inner_text().strip() == TOO_VAGUE
    assert reply.locator("blockquote").count() == 0
    assert reply.locator(".cqa-sources").count() == 0
    assert fits_the_screen(page, reply)
    page.screenshot(path=str(screenshot_dir / f"answer-state-too-vague-{size}.png"))
    assert serious_violations(page, axe_source) == []
