"""Right-to-left reporting and another language's question, as a reader sees them in Chromium.

The app (`python app.py`) serves an index of an Arabic and an English report embedded by a
local multilingual static model (tests/multilingual_support.py), built with
`--model-languages en,ar`: an Arabic question is answered, right to left, in the chat, the
widget's embed view and the source page; a Ukrainian question gets the message naming
Ukrainian and what to do. Screenshots: test-output/rtl-*.png.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import serve_app
from multilingual_support import make_static_model
from test_ui import ask_in_chat

ROOT = Path(__file__).resolve().parents[1]
ARABIC_REPORT = """---
id: gaza-school-ar
title: غارة على مدرسة في غزة
source: الجزيرة
published: 2025-01-18
---
قتل اثنا عشر شخصا في غارة على مدرسة تؤوي نازحين في مدينة غزة. وقال الدفاع المدني إن فرق الإنقاذ ما زالت تبحث عن ناجين.
"""
ENGLISH_REPORT = """---
id: goma-en
title: Fall of Goma
source: France 24
published: 2025-01-27
---
M23 rebels backed by Rwanda entered the centre of Goma, the largest city in eastern Congo. The rebels said they had taken the airport.
"""
ARABIC_QUESTION = "كم عدد القتلى في غارة على مدرسة في غزة؟"
UKRAINIAN_QUESTION = "Скільки людей загинуло в Газі?"


@pytest.fixture(scope="module")
def rtl_app(tmp_path_factory):
    base = tmp_path_factory.mktemp("rtl")
    corpus, index = base / "corpus", base / "index"
    corpus.mkdir()
    (corpus / "gaza-ar.md").write_text(ARABIC_REPORT, encoding="utf-8")
    (corpus / "goma-en.md").write_text(ENGLISH_REPORT, encoding="utf-8")
    model = make_static_model(base / "model", [ARABIC_REPORT, ENGLISH_REPORT, ARABIC_QUESTION, UKRAINIAN_QUESTION])
    subprocess.run([sys.executable, "-m", "assistant", "build", "--corpus", str(corpus), "--index", str(index),
                    "--model", str(model), "--model-languages", "en,ar"], cwd=ROOT, check=True, capture_output=True,
                   timeout=300)
    # No --model: the server uses the model recorded in the index.
    with serve_app(index, base / "app.log") as url:
        yield url


def direction(locator) -> str:
    return locator.evaluate("element => getComputedStyle(element).direction")


@pytest.mark.browser
@pytest.mark.parametrize("view", ["/", "/embed/"], ids=["chat", "widget"])
def test_an_arabic_report_reads_right_to_left(rtl_app, watched_page, screenshot_dir, view) -> None:
    page = watched_page.page
    page.goto(rtl_app + view)
    answer = ask_in_chat(page, ARABIC_QUESTION)
    quoted = answer.locator("blockquote p").first
    assert "قتل اثنا عشر شخصا" in quoted.inner_text()
    assert quoted.get_attribute("lang") == "ar"
    assert direction(quoted) == "rtl"
    question = page.locator("#cqa-chat .cqa-question").last
    assert direction(question) == "rtl"
    time.sleep(0.5)
    page.screenshot(path=str(screenshot_dir / f"rtl-{'widget' if 'embed' in view else 'chat'}.png"))


@pytest.mark.browser
def test_the_source_page_of_an_arabic_report_reads_right_to_left(rtl_app, watched_page, screenshot_dir) -> None:
    page = watched_page.page
    page.goto(f"{rtl_app}/source/gaza-school-ar?start=0&end=61#quote")
    article = page.locator("article")
    assert article.get_attribute("lang") == "ar" and direction(article) == "rtl"
    assert direction(page.locator("h1")) == "rtl"
    assert direction(page.locator("p.meta")) == "ltr"  # the page's own English stays left to right
    page.screenshot(path=str(screenshot_dir / "rtl-source.png"))


@pytest.mark.browser
def test_a_ukrainian_question_gets_a_message_naming_the_language(rtl_app, watched_page, screenshot_dir) -> None:
    page = watched_page.page
    page.goto(rtl_app + "/")
    reply = ask_in_chat(page, UKRAINIAN_QUESTION)
    text = reply.inner_text()
    assert "Ukrainian" in text and "ask in English" in text and "multilingual" in text
    assert "does not answer" not in page.locator("#cqa-chat").inner_text()
    time.sleep(0.5)
    page.screenshot(path=str(screenshot_dir / "rtl-ukrainian-question.png"))
