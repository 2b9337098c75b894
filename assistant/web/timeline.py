"""A timeline of an answer's quoted reports: the reports on a date axis, as a server-rendered SVG.

Pure: an `Answer` in, an HTML string out; nothing is fetched or scripted in the browser.
Each quoted report (a quote, and every report holding the same wording, `also_in`) is a
point at its publication date, labelled with its citation marker, the outlet (the
reports the publisher cites, else the publisher) and the casualty figure of the quote
as written in the sentence. Labels are stacked in rows so none overlaps another. The
same facts follow in a table (the plot's text alternative, also read by screen
readers). A timeline is shown only when the points fall on at least MIN_DATES dates.

Two drawings are made, a wide one and a narrow one for phones and the widget; CSS
shows one (a scaled-down wide drawing would shrink its text below reading size).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answers.citations import attribution_of
from assistant.ingest.outlets import cited_outlets, publisher_name
from assistant.records import Answer, Attribution, Quote

MIN_DATES = 2
"""Distinct publication dates an answer needs before a timeline is drawn."""
WIDE, NARROW = 640, 280
"""Drawing widths in CSS pixels (the chat column at 1366 px; a 390 px phone or the widget panel,
where the narrow one shrinks to the bubble if need be)."""
FONT_PX = 12
CHAR_PX = 6.6
"""Average advance of a 12 px system-ui character, to keep labels apart."""
ROW_PX = 20
AXIS_MARGIN = 14
INK, AXIS, POINT = "#1e293b", "#475569", "#1d4ed8"
"""Slate-800 text (14.6:1 on white), slate-600 axis (7.6:1), blue-700 points (6.7:1): WCAG AA."""


@dataclass(frozen=True, kw_only=True)
class Point:
    """One quoted report on the axis."""

    day: dt.date
    marker: int
    outlet: str
    byline: str
    figure: str
    title: str
    same_wording: bool


def _outlet(attribution: Attribution) -> str:
    """The first outlet the report cites ("Al Jazeera +2" when it cites three), else its publisher."""
    cited = [outlet.name for outlet in cited_outlets(attribution.cites)]
    if not cited:
        return publisher_name(attribution.publisher)
    return cited[0] + (f" +{len(cited) - 1}" if len(cited) > 1 else "")


def _byline(attribution: Attribution) -> str:
    cited = ", ".join(outlet.name for outlet in cited_outlets(attribution.cites))
    publisher = publisher_name(attribution.publisher)
    return f"{publisher}, citing {cited}" if cited else publisher


def _figure(quote: Quote) -> str:
    """The first casualty figure of the quote, as the sentence writes it ('' when none)."""
    for figure in sorted(quote.figures, key=lambda f: f.start):
        if 0 <= figure.start < figure.end <= len(quote.text):
            return quote.text[figure.start:figure.end]
    return ""


def _day(published: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((published or "")[:10])
    except ValueError:
        return None


def timeline_points(answer: Answer) -> list[Point]:
    """The answer's quoted reports with a readable date, oldest first (ties by marker)."""
    points = []
    for position, quote in enumerate(answer.quotes if answer.answered else (), start=1):
        marker = quote.marker or position
        figure = _figure(quote)
        for ref, same in ((quote, False), *((ref, True) for ref in quote.also_in)):
            day = _day(ref.published)
            if day is None:
                continue
            attribution = attribution_of(ref)
            points.append(Point(day=day, marker=marker, outlet=_outlet(attribution), byline=_byline(attribution),
                                figure=figure, title=ref.title, same_wording=same))
    return sorted(points, key=lambda point: (point.day, point.marker, point.same_wording))


def _label(point: Point) -> str:
    return " · ".join(part for part in (f"[{point.marker}]", point.outlet, point.figure) if part)


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:max(1, chars - 1)].rstrip() + "…"


def _ticks(first: dt.date, last: dt.date, count: int) -> list[dt.date]:
    """At most `count` dates spread over [first, last], both ends included."""
    span = (last - first).days
    if span == 0 or count < 2:
        return [first]
    steps = min(count - 1, span)
    return list(dict.fromkeys(first + dt.timedelta(days=round(span * i / steps)) for i in range(steps + 1)))


def _short(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def timeline_svg(points: Sequence[Point], *, width: int) -> str:
    """The drawing: a date axis with each report as a point under its stacked label."""
    esc = lambda text: html.escape(text, quote=True)  # noqa: E731
    first, last = points[0].day, points[-1].day
    span = max(1, (last - first).days)
    left, right = AXIS_MARGIN + 4, width - AXIS_MARGIN - 4
    max_chars = int((width - 2 * AXIS_MARGIN) / CHAR_PX)

    def x_of(day: dt.date) -> float:
        return left + (right - left) * ((day - first).days / span) if last > first else (left + right) / 2

    # Greedy rows: a label goes in the first row where it clears the previous label's end.
    row_ends: list[float] = []
    placed = []
    for point in points:
        text = _clip(_label(point), max_chars)
        label_width = len(text) * CHAR_PX
        x = x_of(point.day)
        # A label starts at its point; one that would run off the right edge ends at its point
        # (anchored there, so it lines up whatever the font's real width); one that fits neither
        # way starts where it stays inside the drawing.
        anchor_end = (x - 6 + label_width > width - AXIS_MARGIN
                      and min(x + 6, width - AXIS_MARGIN) - label_width >= AXIS_MARGIN)
        if anchor_end:
            anchor_x = min(x + 6, width - AXIS_MARGIN)
            start = anchor_x - label_width
        else:
            anchor_x = start = max(AXIS_MARGIN, min(x - 6, width - AXIS_MARGIN - label_width))
        for row, end in enumerate(row_ends):
            if start >= end + 10:
                row_ends[row] = start + label_width
                break
        else:
            row = len(row_ends)
            row_ends.append(start + label_width)
        placed.append((point, text, x, anchor_x, anchor_end, row))
    rows = max(1, len(row_ends))
    axis_y = 12 + rows * ROW_PX + 12
    height = axis_y + 34
    parts = [f'<svg class="cqa-tl-svg" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-hidden="true" focusable="false" '
             f'font-family="system-ui, sans-serif" font-size="{FONT_PX}">',
             f'<line x1="{AXIS_MARGIN}" y1="{axis_y}" x2="{width - AXIS_MARGIN}" y2="{axis_y}" '
             f'stroke="{AXIS}" stroke-width="1.5"/>']
    tick_count = max(2, min(5, width // 150))
    for tick in _ticks(first, last, tick_count):
        tx = x_of(tick)
        anchor = "start" if tx <= left + 1 else "end" if tx >= right - 1 else "middle"
        parts.append(f'<line x1="{tx:.1f}" y1="{axis_y}" x2="{tx:.1f}" y2="{axis_y + 5}" stroke="{AXIS}"/>'
                     f'<text x="{tx:.1f}" y="{axis_y + 19}" text-anchor="{anchor}" fill="{INK}">'
                     f"{esc(_short(tick))}</text>")
    for point, text, x, anchor_x, anchor_end, row in placed:
        label_y = 12 + row * ROW_PX + FONT_PX
        parts.append(f'<line x1="{x:.1f}" y1="{label_y + 4}" x2="{x:.1f}" y2="{axis_y - 5}" stroke="{AXIS}" '
                     f'stroke-dasharray="2 2"/>'
                     f'<circle cx="{x:.1f}" cy="{axis_y}" r="5" fill="{"#ffffff" if point.same_wording else POINT}" '
                     f'stroke="{POINT}" stroke-width="2"/>'
                     f'<text x="{anchor_x:.1f}" y="{label_y}" text-anchor="{"end" if anchor_end else "start"}" '
                     f'fill="{INK}">{esc(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_timeline(answer: Answer) -> str:
    """The timeline block (two drawings and the table), or '' when the reports span fewer than
    MIN_DATES dates."""
    points = timeline_points(answer)
    if len({point.day for point in points}) < MIN_DATES:
        return ""
    esc = lambda text: html.escape(text, quote=True)  # noqa: E731
    first, last = points[0].day, points[-1].day
    rows = "".join(
        f'<tr><td>{esc(_short(point.day))}</td><td>[{point.marker}]{" (same wording)" if point.same_wording else ""}'
        f'</td><td>{esc(point.byline)}</td><td>{esc(point.figure) or "—"}</td></tr>' for point in points)
    summary = (f"{len(points)} quoted report{'s' if len(points) != 1 else ''} from {_short(first)} "
               f"to {_short(last)}")
    return (f'<figure class="cqa-tl" role="group" aria-label="Timeline: {esc(summary)}">'
            f'<p class="cqa-heading">Timeline of the quoted reports</p>'
            f'<div class="cqa-tl-plot cqa-tl-wide">{timeline_svg(points, width=WIDE)}</div>'
            f'<div class="cqa-tl-plot cqa-tl-narrow">{timeline_svg(points, width=NARROW)}</div>'
            f'<figcaption class="cqa-tl-caption">{esc(summary)}; filled points are the quotes, '
            "open points other reports with the same wording.</figcaption>"
            '<details class="cqa-tl-details"><summary>The timeline as a table</summary>'
            '<div class="cqa-tl-scroll" tabindex="0" role="region" aria-label="Timeline table (scrolls sideways)">'
            '<table class="cqa-tl-table"><thead><tr><th scope="col">date'
            '</th><th scope="col">quote</th><th scope="col">published by</th><th scope="col">figure in the quote'
            f"</th></tr></thead><tbody>{rows}</tbody></table></div></details></figure>")
