"""The README's screenshots of the chat and the widget, taken from the current UI.

Run by hand (about a minute), over an index of real conflict-news items built outside the
repository, e.g. the newest 400 items of the shared archive:

    .venv/bin/python docs/make_screenshots.py --index DIR [--question "..."]

Starts `python app.py --index DIR` on a free port, asks the question in the chat at
1366x900 (the answer is scrolled so its last quotes, the timeline and the More results /
order row are in view) and writes docs/chat-desktop.png; then opens the example host page
/examples/embed.html at 390x844, opens the widget, asks the same question there and writes
docs/widget-phone.png. Chromium is Debian's, driven by Playwright, as in the browser tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM_ARGS, serve_app  # noqa: E402

QUESTION = "How many people were killed in Israeli strikes on Gaza?"


def ask(target: object, question: str) -> object:
    """Type the question into the chat (a page or the widget's frame); return the answer."""
    box = target.locator("#cqa-question textarea")
    box.wait_for(timeout=120_000)
    box.fill(question)
    box.press("Enter")
    answer = target.locator("#cqa-chat .cqa-answer").first
    answer.wait_for(timeout=180_000)
    time.sleep(1.0)
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    log = Path("/tmp") / "make_screenshots.log"
    with serve_app(args.index, log) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url + "/")
        page.locator("#cqa-chat .cqa-overview").wait_for(timeout=120_000)
        answer = ask(page, args.question)
        # Show the end of the answer: its last quotes, the timeline and the row of page and order links.
        answer.evaluate("""a => {
            const row = a.parentElement.querySelector('.cqa-pager') || a;
            let log = a.parentElement;
            while (log && !(log.scrollHeight > log.clientHeight + 4 && /(auto|scroll)/.test(getComputedStyle(log).overflowY)))
                log = log.parentElement;
            if (!log) return;
            log.scrollTop += row.getBoundingClientRect().bottom - log.getBoundingClientRect().bottom + 12;
            // Start at a whole quote: the first one whose top is still in view after that.
            const top = log.getBoundingClientRect().top;
            const whole = [...a.querySelectorAll('blockquote')].find(q => q.getBoundingClientRect().top >= top);
            if (whole) log.scrollTop += whole.getBoundingClientRect().top - top - 8;
        }""")
        time.sleep(0.5)
        page.screenshot(path=str(ROOT / "docs" / "chat-desktop.png"))

        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.goto(url + "/examples/embed.html")
        phone.locator("[data-conflict-qa-widget] .launcher").click()
        frame = phone.locator("[data-conflict-qa-widget] iframe").element_handle().content_frame()
        ask(frame, args.question)
        phone.screenshot(path=str(ROOT / "docs" / "widget-phone.png"))
        browser.close()
    print("wrote docs/chat-desktop.png and docs/widget-phone.png")


if __name__ == "__main__":
    main()
