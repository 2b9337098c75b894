"""More results, sort by date and the timeline in Chromium, in the chat and the widget's view (/embed/),
at desktop (1366x900) and phone (390x844) sizes, on 27 real conflict-news items
(tests/data/newsroom_sample.jsonl), with axe-core (zero serious or critical violations).
Screenshots go to test-output/.
"""

from __future__ import annotations

import datetime as dt
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import build_index, serve_app
from test_newsroom_ui import DESKTOP, PHONE, SIZES, context_at, serious_violations  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parent / "data" / "newsroom_sample.jsonl"
GAZA = "How many people were killed in Israeli strikes on Gaza?"
ANSWERS = "#cqa-chat .cqa-answer, #cqa-chat .cqa-refusal"


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python app.py` over an index of the 27 sample items."""
    base = tmp_path_factory.mktemp("newsroom-sample")
    (base / "corpus").mkdir()
    shutil.copy(SAMPLE, base / "corpus" / SAMPLE.name)
    build_index(base / "corpus", base / "index")
    with serve_app(base / "index", base / "app.log") as url:
        yield url


def open_answer(page: object, url: str) -> object:
    page.goto(url)
    answer = page.locator(ANSWERS).first
    answer.wait_for(timeout=180_000)
    return answer


def click_and_wait(page: object, link: object) -> object:
    """Click a page/order link under an answer; return the new answer it adds to the conversation."""
    before = page.locator(ANSWERS).count()
    link.click()
    page.wait_for_function("([selector, n]) => document.querySelectorAll(selector).length > n",
                           arg=[ANSWERS, before], timeout=180_000)
    return page.locator(ANSWERS).nth(before)


def pager_of(answer: object) -> object:
    """The row under an answer with More results and the order links."""
    return answer.locator("xpath=following-sibling::div[contains(@class, 'cqa-pager')][1]")


def markers(answer: object) -> list[int]:
    return [int(text.strip("[]")) for text in answer.locator("blockquote .cqa-marker").all_inner_texts()]


def byline_dates(answer: object) -> list[str]:
    return [text.rsplit("·", 1)[-1].strip() for text in answer.locator("blockquote .cqa-byline").all_inner_texts()]


def visible_timeline(answer: object) -> object:
    plots = answer.locator(".cqa-tl-plot svg")
    visible = [plots.nth(i) for i in range(plots.count()) if plots.nth(i).is_visible()]
    assert len(visible) == 1  # the wide drawing on a desktop, the narrow one on a phone
    return visible[0]


@pytest.mark.parametrize("view", ["/", "/embed/"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_more_results_sort_by_date_and_the_timeline(sample_app, context_at, screenshot_dir, axe_source,
                                                    view, size) -> None:
    page = context_at(SIZES[size]).new_page()
    name = f"{'chat' if view == '/' else 'widget'}-{size}"
    first = open_answer(page, sample_app + view + "?" + urllib.parse.urlencode({"q": GAZA}))
    assert markers(first) == [1, 2, 3]

    # The timeline: the quoted reports on a date axis, readable at this size, with its table.
    plot = visible_timeline(first)
    box = plot.bounding_box()
    assert box["width"] >= 240 and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]
    labels = plot.locator("text").all_text_contents()
    for number in (1, 2, 3):
        assert any(label.startswith(f"[{number}] · ") for label in labels), labels
    assert any(" 2026" in label for label in labels)  # dates on the axis
    summary = first.locator(".cqa-tl-details summary")
    summary.click()
    table_rows = first.locator(".cqa-tl-table tbody tr")
    assert table_rows.count() >= 3 and "citing" in table_rows.first.inner_text()
    first.locator(".cqa-tl").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / f"timeline-{name}.png"))
    assert serious_violations(page, axe_source) == []

    # More results: the next quotes, numbered on, with a plain line when there are no more.
    more = pager_of(first).locator("a.cqa-more")
    assert more.is_visible() and more.inner_text() == "More results"
    second = click_and_wait(page, more)
    assert markers(second)[0] == 4 and "More results, page 2" in second.inner_text()
    shown = set(first.locator("blockquote .cqa-said").all_inner_texts())
    assert not shown & set(second.locator("blockquote .cqa-said").all_inner_texts())
    latest = second
    while pager_of(latest).locator("a.cqa-more").count():
        latest = click_and_wait(page, pager_of(latest).locator("a.cqa-more"))
    assert "No more quotes" in pager_of(latest).inner_text()
    page.screenshot(path=str(screenshot_dir / f"more-results-{name}.png"))

    # Sort by date: the same question ordered newest first, reflected in its permalink.
    by_date = click_and_wait(page, pager_of(first).locator("a.cqa-sort-date"))
    dates = byline_dates(by_date)
    assert "ordered by publication date, newest first" in by_date.inner_text()
    days = [dt.datetime.strptime(text, "%d %B %Y").date() for text in dates]
    assert days == sorted(days, reverse=True) and len(set(days)) >= 2
    permalink = page.locator("#cqa-chat a.cqa-permalink").last.get_attribute("href")
    assert "sort=date" in permalink
    assert pager_of(by_date).locator(".cqa-sort-current").inner_text() == "Newest first"
    oldest = click_and_wait(page, pager_of(by_date).locator("a.cqa-sort-date-asc"))
    old_days = [dt.datetime.strptime(text, "%d %B %Y").date() for text in byline_dates(oldest)]
    assert old_days == sorted(old_days)
    page.screenshot(path=str(screenshot_dir / f"sort-by-date-{name}.png"))
    assert serious_violations(page, axe_source) == []

    # The permalink opens the same ordering on its own.
    other = context_at(SIZES[size]).new_page()
    reopened = open_answer(other, sample_app + view.rstrip("/") + permalink)
    assert byline_dates(reopened) == dates[:3]
