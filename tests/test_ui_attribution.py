"""Attribution as a reader sees it: who wrote the quoted words, whom they cite, the license.

Rendering checks first; then headless Chromium against `python app.py` over the seed
article and tests/data/conflict_news_sample.jsonl (Wikipedia Portal:Current events
items and a Wikinews article), at desktop (1280x900) and phone (390x844) size.
Screenshots go to test-output/attribution-*.png.
"""

from __future__ import annotations

import time

import pytest

from assistant.ingest.outlets import Credit
from assistant.records import Answer, Attribution, CitedReport, Quote
from assistant.web.ui import credits_html, render_answer

GOMA = "Who solidifies control of Goma?"
PORTAL = "https://en.wikipedia.org/wiki/Portal:Current_events/2025_January_29"
PHONE = {"width": 390, "height": 844}


def portal_quote() -> Quote:
    attribution = Attribution(
        publisher="Wikipedia Portal:Current events", publisher_url=PORTAL,
        cites=(CitedReport(name="SOHR", url="https://syriahr.com/a"),
               CitedReport(name="SOHR 2", url="https://syriahr.com/b"),
               CitedReport(name="AFP via Al-Arabiya", url="https://alarabiya.net/c")),
        license="CC BY-SA 4.0 (text: Wikipedia contributors, Portal:Current events)")
    return Quote(text="Clashes escalate near the Tishrin Dam.", doc_id="wcep-1", title="Syrian civil war",
                 source="SOHR; SOHR 2", url="https://syriahr.com/a", published="2025-01-03", start=0, end=38,
                 score=1.0, marker=1, attribution=attribution)


def test_byline_names_the_publisher_then_plain_links_to_the_cited_reports() -> None:
    html = render_answer(Answer(question="q", answered=True, quotes=(portal_quote(),)))

    assert ('<span class="cqa-publisher">Wikipedia, Portal:Current events</span> · '
            '<span class="cqa-cites">citing ') in html
    assert '>SOHR ↗</a>' in html and 'aria-label="SOHR, report 2"' in html  # "SOHR 2" folded in
    assert '>report 2 ↗</a>)' in html and '↗</a> <a' not in html  # never a bare second arrow
    assert '>AFP via Al Arabiya ↗</a>' in html
    assert 'href="https://syriahr.com/b"' in html and 'href="https://alarabiya.net/c"' in html
    assert html.count("#:~:text=") == 1 and f'href="{PORTAL}#:~:text=' in html  # only the portal page
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/"' in html


def test_footer_credits_each_publisher_with_its_license() -> None:
    footer = credits_html((Credit(publisher="Wikipedia, Portal:Current events", license="CC BY-SA 4.0",
                                  documents=3259),
                           Credit(publisher="Wikinews", license="CC BY 2.5", documents=17),
                           Credit(publisher="JURIST", license=None, documents=1)))
    assert "Wikipedia, Portal:Current events (3,259 items)" in footer
    assert "Wikinews (17 items)" in footer and "JURIST (1 item): " in footer
    assert "license not stated" in footer and "creativecommons.org/licenses/by/2.5/" in footer
    assert credits_html(()) == ""


@pytest.fixture
def attributed_app(sample_news_app: str) -> str:
    return sample_news_app


def ask(page: object, question: str) -> object:
    from test_ui import ask_in_chat

    return ask_in_chat(page, question)


def check_goma_answer(answer: object) -> None:
    byline = answer.locator("blockquote .cqa-byline").first
    assert byline.inner_text().startswith("Wikipedia, Portal:Current events · citing Al Jazeera ↗, Reuters ↗")
    for link in byline.locator("a.cqa-cited").all():
        href = link.get_attribute("href")
        assert href.startswith(("https://www.aljazeera.com/", "https://www.reuters.com/")) and "#:~:" not in href
    sources = answer.locator(".cqa-sources").inner_text()
    assert "Wikipedia, Portal:Current events" in sources and "CC BY-SA 4.0" in sources
    assert answer.locator(".cqa-sources a.cqa-original").first.get_attribute("href").startswith(
        PORTAL + "#:~:text=")


@pytest.mark.browser
@pytest.mark.parametrize("size, name", [({"width": 1280, "height": 900}, "desktop"), (PHONE, "phone")])
def test_chat_and_viewer_show_publisher_cited_reports_and_license(attributed_app, browser, screenshot_dir,
                                                                   size, name) -> None:
    context = browser.new_context(viewport=size)
    page = context.new_page()
    try:
        page.goto(attributed_app + "/")
        credits = page.locator("#cqa-credits")
        credits.wait_for(timeout=60_000)
        assert "Wikipedia, Portal:Current events (9 items): CC BY-SA 4.0" in credits.inner_text()
        assert "Wikinews (1 item): CC BY 2.5" in credits.inner_text()
        answer = ask(page, GOMA)
        check_goma_answer(answer)
        answer.locator("blockquote").first.scroll_into_view_if_needed()
        time.sleep(0.5)
        page.screenshot(path=str(screenshot_dir / f"attribution-chat-{name}.png"))

        with context.expect_page() as opened:
            answer.locator("a.cqa-marker").first.click()
        article = opened.value
        article.wait_for_load_state()
        meta = article.locator(".meta").inner_text()
        assert meta.startswith("Wikipedia, Portal:Current events · citing Al Jazeera ↗, Reuters ↗")
        assert article.locator("a.publisher-page").get_attribute("href").startswith(PORTAL + "#:~:text=")
        assert "CC BY-SA 4.0" in article.locator("footer").inner_text()
        article.screenshot(path=str(screenshot_dir / f"attribution-viewer-{name}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.browser
def test_widget_view_shows_the_same_attribution(attributed_app, browser, screenshot_dir) -> None:
    context = browser.new_context(viewport={"width": 420, "height": 680})
    page = context.new_page()
    try:
        page.goto(attributed_app + "/embed/")
        check_goma_answer(ask(page, GOMA))
        time.sleep(0.5)
        page.screenshot(path=str(screenshot_dir / "attribution-widget.png"))
    finally:
        context.close()


def test_api_sources_and_filter_use_publishers_and_cited_outlets(attributed_app) -> None:
    import json
    import urllib.parse
    import urllib.request

    with urllib.request.urlopen(f"{attributed_app}/api/sources", timeout=60) as response:
        sources = json.load(response)["sources"]
    assert {"Wikipedia, Portal:Current events", "Wikinews", "JURIST", "Al Jazeera", "Reuters", "SOHR",
            "France 24", "AFP", "Al Arabiya"} <= set(sources)
    assert not {"SOHR 2", "France24", "AFP via Al-Arabiya", "Wikipedia Portal:Current events"} & set(sources)

    query = urllib.parse.urlencode({"question": "What is thrown at the Russian consulate in Marseille?",
                                    "sources": ["france24"]}, doseq=True)
    with urllib.request.urlopen(f"{attributed_app}/api/ask?{query}", timeout=60) as response:
        answer = json.load(response)
    assert answer["answered"] and "molotov" in answer["quotes"][0]["text"]
    assert answer["quotes"][0]["publisher"] == "Wikipedia, Portal:Current events"
    assert answer["sources"][0]["cites"][0]["name"] == "France 24"
