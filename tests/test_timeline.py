"""The timeline of an answer's quoted reports (assistant/web/timeline.py) and its place in the chat."""

from __future__ import annotations

import re

from assistant.answers.figures import find_figures
from assistant.records import Answer, Attribution, CitedReport, Quote, SourceRef
from assistant.web.timeline import render_timeline, timeline_points
from assistant.web.ui import render_answer

PORTAL = "Wikipedia, Portal:Current events"


def quote(marker: int, published: str | None, text: str, cites: tuple[str, ...] = ("Reuters",),
          also_in: tuple[SourceRef, ...] = ()) -> Quote:
    return Quote(text=text, doc_id=f"doc-{marker}", title="Gaza war > Strikes", source="; ".join(cites), url=None,
                 published=published, start=0, end=len(text), score=1.0, figures=find_figures(text), marker=marker,
                 also_in=also_in,
                 attribution=Attribution(publisher=PORTAL, cites=tuple(CitedReport(name=n) for n in cites)))


def answer(*quotes: Quote) -> Answer:
    return Answer(question="How many people were killed in strikes on Gaza?", answered=True, quotes=quotes)


def test_points_are_the_quoted_reports_in_date_order_with_outlet_and_the_figure_as_written() -> None:
    shown = answer(quote(1, "2026-07-30", "Israeli strikes killed at least 27 people across Gaza.", ("Al Jazeera",)),
                   quote(2, "2026-07-12", "An airstrike on a school killed 12 people, medics said."),
                   quote(3, None, "Rescuers searched the rubble."))
    points = timeline_points(shown)

    assert [(str(p.day), p.marker) for p in points] == [("2026-07-12", 2), ("2026-07-30", 1)]  # undated left out
    assert [p.outlet for p in points] == ["Reuters", "Al Jazeera"]
    assert [p.figure for p in points] == ["killed 12 people", "killed at least 27 people"]  # sliced from the quote
    assert points[0].byline == f"{PORTAL}, citing Reuters"  # who wrote the words, whom they cite


def test_the_plot_shows_dates_outlets_and_figures_and_a_table_says_the_same() -> None:
    html = render_timeline(answer(
        quote(1, "2026-07-30", "Israeli strikes killed at least 27 people across Gaza.", ("Al Jazeera",)),
        quote(2, "2026-07-12", "An airstrike on a school killed 12 people, medics said.")))

    assert html.count("<svg") == 2  # the wide and the narrow drawing
    labels = re.findall(r"<text [^>]*>([^<]*)</text>", html)
    assert any(label.startswith("[2] · Reuters · ") and "12 people" in label for label in labels)
    assert any(label.startswith("[1] · Al Jazeera · ") and "27 people" in label for label in labels)
    assert "12 Jul 2026" in labels and "30 Jul 2026" in labels  # the axis is labelled at both ends
    rows = re.findall(r"<tr><td>([^<]*)</td><td>\[(\d)\]", html)
    assert rows == [("12 Jul 2026", "2"), ("30 Jul 2026", "1")]
    assert f"{PORTAL}, citing Reuters" in html and 'aria-label="Timeline: 2 quoted reports from 12 Jul 2026 ' \
                                                  'to 30 Jul 2026"' in html
    assert "<script" not in html and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_no_timeline_for_reports_of_one_day_or_an_unanswered_question() -> None:
    same_day = answer(quote(1, "2026-07-12", "An airstrike killed 12 people."),
                      quote(2, "2026-07-12", "Medics said 12 people died."))
    assert render_timeline(same_day) == ""
    assert "cqa-tl" not in render_answer(same_day)
    assert render_timeline(Answer(question="q", answered=False)) == ""


def test_same_wording_elsewhere_is_an_open_point_and_everything_is_escaped() -> None:
    other = SourceRef(doc_id="doc-9", title="t", source="AP", url=None, published="2026-07-14",
                      attribution=Attribution(publisher="<b>AP</b>"))
    html = render_timeline(answer(quote(1, "2026-07-12", "Strikes killed 12 people.", ("<img src=x>",),
                                        also_in=(other,))))
    assert "(same wording)" in html and 'fill="#ffffff"' in html
    assert "<img" not in html and "<b>AP" not in html and "&lt;img src=x&gt;" in html
    assert "cqa-tl" in render_answer(answer(quote(1, "2026-07-12", "Strikes killed 12 people.", also_in=(other,))))


def test_every_label_stays_inside_the_narrow_and_the_wide_drawing() -> None:
    from assistant.web.timeline import CHAR_PX, NARROW, WIDE, timeline_svg

    days = ["2026-07-01", "2026-07-02", "2026-07-03", "2026-07-15", "2026-07-29", "2026-07-30", "2026-07-31"]
    points = timeline_points(answer(*(quote(n, day, f"Strikes on the camp killed {n + 10} people, officials said.",
                                            ("Al Jazeera", "Reuters", "Middle East Eye")) for n, day in
                                      enumerate(days, start=1))))
    for width in (NARROW, WIDE):
        svg = timeline_svg(points, width=width)
        labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(start|end)" [^>]*>(\[[^<]*)</text>', svg)
        assert len(labels) == len(points)
        for x, anchor, text in labels:
            extent = len(html_unescape(text)) * CHAR_PX
            left, right = (float(x), float(x) + extent) if anchor == "start" else (float(x) - extent, float(x))
            assert left >= 0 and right <= width, (width, x, anchor, text)
            assert "killed" in text or width == NARROW  # the figure fits the wide drawing
        rows = set(re.findall(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="(?:start|end)" [^>]*>\[', svg))
        assert 1 < len(rows) <= len(points)  # close dates are stacked, not overprinted


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)
