"""Citing quotes: links that highlight the sentence, JSON payloads, terminal text.

Links carry a URL text fragment (`#:~:text=`, WICG Scroll-to-Text-Fragment,
https://wicg.github.io/scroll-to-text-fragment/) so a browser that supports it
scrolls to and highlights the quoted sentence on the page that holds it: the
publisher's page, never a report the publisher cites (those are plain links).

Every quote is attributed to its publisher with the reports it cites after it:
"Wikipedia, Portal:Current events · citing Al Jazeera, Reuters".
"""

from __future__ import annotations

import re
import textwrap
from typing import Any
from urllib.parse import quote as percent_encode
from urllib.parse import urlsplit

from assistant.answers import events
from assistant.answers.figures import figure_json, figure_value
from assistant.ingest.dates import question_dates
from assistant.ingest.outlets import cited_outlets, publisher_name
from assistant.records import Answer, AnswerStatus, Attribution, Quote, QuoteOrder, SourceRef

FRAGMENT_WHOLE_WORDS = 10
"""Sentences of at most this many words are put whole into the fragment."""
FRAGMENT_EDGE_WORDS = 5
"""Longer sentences become `textStart,textEnd`: this many words from each end."""
NOT_ANSWERED = "The corpus does not answer this question."
NEAREST_LABEL = "Closest passages found; they do not answer the question."
DETAIL_MISSING = "The reporting is about this, but no report gives the detail asked for."
DETAIL_MISSING_IN_PERIOD = ("The reporting is about this, but no report gives the detail asked for"
                            " (or none from the period asked).")
DETAIL_NEAREST_LABEL = "Nearest passages on the topic; they do not give the detail asked for."
TOO_VAGUE = ("Please be more specific: name the place, the people, the event or the date you "
             "mean (e.g. \"Who attacked the Tishrin Dam?\").")


def outcome_wording(answer: Answer) -> tuple[str | None, str | None]:
    """(message, label of the nearest passages) for the answer's outcome (records.AnswerStatus)."""
    return {
        AnswerStatus.ANSWERED: (None, None),
        AnswerStatus.NOT_IN_CORPUS: (NOT_ANSWERED, NEAREST_LABEL),
        AnswerStatus.DETAIL_MISSING: (DETAIL_MISSING_IN_PERIOD if question_dates(answer.question)
                                      else DETAIL_MISSING, DETAIL_NEAREST_LABEL),
        AnswerStatus.TOO_VAGUE: (TOO_VAGUE, None),
    }[answer.outcome]
COMPARISON_NOTE = (
    "Figures are compared only across reports of the same event, in the order they were published."
)

_WHITESPACE = re.compile(r"\s+")


def _encode_fragment_term(term: str) -> str:
    # '-', ',' and '&' have meaning inside a text directive and must be escaped
    # (spec section 3.3.1); quote() leaves '-' alone, so it is escaped here.
    return percent_encode(term, safe="").replace("-", "%2D")


def text_fragment(sentence: str) -> str:
    """The `text=...` directive that selects `sentence` on a page.

    Whitespace is collapsed (browsers match rendered text). Sentences longer than
    `FRAGMENT_WHOLE_WORDS` words use the `textStart,textEnd` form with
    `FRAGMENT_EDGE_WORDS` words each, which keeps links short and survives
    small differences in the middle of the sentence.
    """
    words = _WHITESPACE.sub(" ", sentence).strip().split(" ")
    if len(words) <= FRAGMENT_WHOLE_WORDS:
        return "text=" + _encode_fragment_term(" ".join(words))
    start = " ".join(words[:FRAGMENT_EDGE_WORDS])
    end = " ".join(words[-FRAGMENT_EDGE_WORDS:])
    return f"text={_encode_fragment_term(start)},{_encode_fragment_term(end)}"


def http_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) link without whitespace, else None.

    Only such links are ever rendered: no javascript:, data: or relative URLs.
    """
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or _WHITESPACE.search(url):
        return None
    return url


def link_with_fragment(url: str | None, sentence: str) -> str | None:
    """`url` plus a text fragment for `sentence`; None unless `url` is http(s)."""
    url = http_url(url)
    if url is None:
        return None
    separator = ":~:" if "#" in url else "#:~:"
    return f"{url}{separator}{text_fragment(sentence)}"


def attribution_of(item: Quote | SourceRef) -> Attribution:
    """Who wrote the item's words: its attribution, or, when it has none, its source at its url."""
    return item.attribution or Attribution(publisher=item.source, publisher_url=item.url)


def quote_link(quote: Quote) -> str | None:
    """The publisher's page with a text fragment that highlights the quoted sentence.

    None when the page holding the words is unknown: a cited report's url never
    gets a fragment, since the publisher's words are not on it.
    """
    return link_with_fragment(attribution_of(quote).publisher_url, quote.text)


_CC_LICENSE = re.compile(r"\bCC[ -]?(BY(?:[ -](?:SA|NC|ND))*)[ -]?(\d\.\d)\b", re.IGNORECASE)


def license_url(license: str | None) -> str | None:
    """The Creative Commons deed for a license named like "CC BY-SA 4.0", else None."""
    found = _CC_LICENSE.search(license or "")
    if not found:
        return None
    kind = "-".join(found[1].lower().replace(" ", "-").split("-"))
    return f"https://creativecommons.org/licenses/{kind}/{found[2]}/"


def cites_json(attribution: Attribution) -> list[dict[str, str | None]]:
    """The cited reports as [{name, url}], outlet names as shown (`ingest.outlets`)."""
    return [{"name": outlet.name, "url": http_url(url)}
            for outlet in cited_outlets(attribution.cites) for url in outlet.urls]


def attribution_json(attribution: Attribution) -> dict[str, Any]:
    """`publisher`, `publisher_url`, `cites`, `license` and `license_url` fields for a quote or source."""
    return {"publisher": publisher_name(attribution.publisher),
            "publisher_url": http_url(attribution.publisher_url),
            "cites": cites_json(attribution), "license": attribution.license,
            "license_url": license_url(attribution.license)}


def byline(attribution: Attribution) -> str:
    """"Wikipedia, Portal:Current events · citing Al Jazeera, Reuters" (publisher alone when it cites none)."""
    cited = ", ".join(outlet.name for outlet in cited_outlets(attribution.cites))
    publisher = publisher_name(attribution.publisher)
    return f"{publisher} · citing {cited}" if cited else publisher


def _source_json(ref: SourceRef, *, sentence: str | None = None,
                 marker: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {} if marker is None else {"marker": marker}
    attribution = attribution_of(ref)
    payload.update(doc_id=ref.doc_id, title=ref.title, source=ref.source, url=ref.url,
                   published=ref.published)
    payload["link"] = (link_with_fragment(attribution.publisher_url, sentence) if sentence
                       else http_url(attribution.publisher_url))
    payload.update(attribution_json(attribution))
    return payload


def quote_json(quote: Quote) -> dict[str, Any]:
    """One quote as a JSON-ready dict, with its highlight `link`."""
    return {
        "text": quote.text, "doc_id": quote.doc_id, "title": quote.title,
        "source": quote.source, "url": quote.url, "link": quote_link(quote),
        "published": quote.published, "start": quote.start, "end": quote.end,
        "score": round(float(quote.score), 4),
        "context_before": quote.context_before, "context_after": quote.context_after,
        "figures": [figure_json(figure) for figure in quote.figures],
        "also_in": [_source_json(ref, sentence=quote.text) for ref in quote.also_in],
        "marker": quote.marker,
        **attribution_json(attribution_of(quote)),
        # "coded-event": the text is a data row (UCDP), to be shown as data, not as a quotation.
        "kind": "coded-event" if quote.event and quote.event.get("coded") else "quote",
        "event": quote.event,
    }


def _quote_ref(quote: Quote) -> SourceRef:
    return SourceRef(doc_id=quote.doc_id, title=quote.title, source=quote.source,
                     url=quote.url, published=quote.published, attribution=quote.attribution)


def source_list(answer: Answer) -> list[dict[str, Any]]:
    """The numbered source list: one entry per cited document, in marker order.

    `markers` lists every quote the document supports (several quotes can come from
    one article; a merged duplicate's document shares its quote's marker);
    `marker` is the first of them, and `link` highlights that quote.
    """
    entries: dict[str, dict[str, Any]] = {}
    for quote in answer.quotes:
        for ref in (_quote_ref(quote), *quote.also_in):
            if ref.doc_id in entries:
                if quote.marker not in entries[ref.doc_id]["markers"]:
                    entries[ref.doc_id]["markers"].append(quote.marker)
                continue
            entries[ref.doc_id] = {**_source_json(ref, sentence=quote.text, marker=quote.marker),
                                   "markers": [quote.marker]}
    return list(entries.values())


def comparison(answer: Answer) -> list[dict[str, Any]]:
    """Figures side by side, one comparison per event (assistant/answers/events.py).

    Quotes are first grouped into events; an event gets a comparison only when at
    least two of its reports give figures. Each comparison lists its `reports` in
    date order (outlet, date, markers, figures with their `value` as read), the
    `timeline` per category ("21 → 100 → 55, as reported on ...") and a one-line
    `disagreement` naming the outlets whose figures differ (None when they agree).
    Quotes of different events are never in one comparison.
    """
    compared = []
    for group in events.group_events(answer.quotes):
        running = events.is_running_count(group)
        found = events.readings(group, running=running)
        if len({reading.doc_id for reading in found}) < 2:
            continue
        reports = []
        for quote in group:
            figures = [{"marker": quote.marker, "value": figure_value(figure), **figure_json(figure)}
                       for figure in quote.figures]
            if not figures:
                figures = [{"marker": quote.marker, "value": f"{value:,}", "category": thing, "low": value,
                            "high": value, "vague": None, "start": None, "end": None, "includes": []}
                           for thing, value in events.running_readings(quote)]
            reports.append({"source": quote.source, "reported_by": events.reported_by(quote),
                            "published": quote.published,
                            "markers": [quote.marker], "figures": figures})
        compared.append({
            "event": group[0].title.split(" > ")[-1], "running_count": running,
            "markers": [quote.marker for quote in group], "reports": reports,
            "timeline": events.timeline(group, running=running),
            "disagreement": events.disagreement(group, running=running),
        })
    return compared


NO_MORE_QUOTES = "No more quotes: every quote that answers this question is on the earlier pages."


def no_more_quotes(answer: Answer) -> bool:
    """A later page ("More results") of an answered question that has nothing left to show."""
    return answer.answered and not answer.quotes and answer.page > 1


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """The answer as one JSON-ready object (the `--json` output and the API payload).

    Keys: question, answered, status (records.AnswerStatus value), message, quotes,
    nearest (labelled by `nearest_label`: they do not answer), sources, comparison
    (+ `comparison_note`), elapsed_ms, page, more (another page has quotes), sort.
    """
    message, nearest_label = outcome_wording(answer)
    if no_more_quotes(answer):
        message = NO_MORE_QUOTES
    payload: dict[str, Any] = {
        "question": answer.question,
        "answered": answer.answered,
        "status": answer.outcome.value,
        "message": message,
        "quotes": [quote_json(quote) for quote in answer.quotes],
        "nearest": [quote_json(quote) for quote in answer.nearest],
        "nearest_label": nearest_label if answer.nearest else None,
        "sources": source_list(answer),
        "comparison": comparison(answer),
        "elapsed_ms": round(float(answer.elapsed_ms), 1),
    }
    payload["comparison_note"] = COMPARISON_NOTE if payload["comparison"] else None
    payload.update(page=answer.page, more=answer.more, sort=QuoteOrder(answer.order).value)
    return payload


def _describe(ref: SourceRef | Quote) -> str:
    date = f" ({ref.published})" if ref.published else ""
    return f"{byline(attribution_of(ref))}: \"{ref.title}\"{date}"


def _wrap(text: str, indent: str, width: int) -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


def _clip(text: str, *, from_end: bool, limit: int = 160) -> str:
    """At most about `limit` characters of context, cut at a space, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    if from_end:
        tail = text[-limit:]
        return "…" + tail[tail.find(" ") + 1:] if " " in tail else "…" + tail
    head = text[:limit]
    return (head[:head.rfind(" ")] if " " in head else head) + "…"


def render_text(answer: Answer, *, width: int = 88) -> str:
    """The answer for a terminal: numbered quotes with context, figures, then sources."""
    lines = [f"Q: {answer.question}", ""]
    if not answer.answered:
        message, nearest_label = outcome_wording(answer)
        lines.append(message or NOT_ANSWERED)
        if answer.nearest:
            lines += ["", nearest_label or NEAREST_LABEL]
            for quote in answer.nearest:
                lines.append(_wrap(f"- \"{quote.text}\" ({_describe(quote)})", "  ", width))
    for quote in answer.quotes:
        if quote.event and quote.event.get("coded"):
            from assistant.answers.coded_events import event_line

            lines.append(_wrap(f"[{quote.marker}] Coded event (data, not a quote): "
                               f"{event_line(quote.event)}", "", width))
            lines += [f"     — {_describe(quote)}", ""]
            continue
        if quote.context_before:
            lines.append(_wrap(_clip(quote.context_before, from_end=True), "     ", width))
        lines.append(_wrap(f"[{quote.marker}] \"{quote.text}\"", "", width))
        if quote.context_after:
            lines.append(_wrap(_clip(quote.context_after, from_end=False), "     ", width))
        lines.append(f"     — {_describe(quote)}")
        if quote.event:
            from assistant.answers.coded_events import event_line

            lines.append(_wrap(f"coded as: {event_line(quote.event)}", "     ", width))
        for ref in quote.also_in:
            lines.append(f"     also in: {_describe(ref)}")
        if quote.figures:
            shown = "; ".join(f"{figure.category} {figure_value(figure)}" for figure in quote.figures)
            lines.append(f"     figures: {shown}")
        lines.append("")
    for compared in comparison(answer):
        lines.append(f"Figures for one event ({compared['event']}):")
        if compared["disagreement"]:
            lines.append(f"  {compared['disagreement']}")
        for report in compared["reports"]:
            figures = ", ".join(f"{figure['category']} {figure['value']} [{figure['marker']}]"
                                for figure in report["figures"])
            date = f" ({report['published']})" if report["published"] else ""
            lines.append(f"  {report['reported_by']}{date}: {figures or '—'}")
        for category, line in compared["timeline"].items():
            lines.append(f"  {category}: {line}")
        lines += [f"  ({COMPARISON_NOTE})", ""]
    sources = source_list(answer)
    if sources:
        lines.append("Sources:")
        for entry in sources:
            date = f", {entry['published']}" if entry["published"] else ""
            link = f" — {entry['link']}" if entry["link"] else ""
            markers = "".join(f"[{marker}]" for marker in entry["markers"])
            lines.append(f"  {markers} {entry['publisher']}: {entry['title']}{date}{link}")
            indent = " " * (len(markers) + 3)
            for cite in entry["cites"]:
                lines.append(f"{indent}citing {cite['name']}" + (f": {cite['url']}" if cite["url"] else ""))
            lines.append(f"{indent}license: {entry['license'] or 'not stated'}")
    lines.append(f"({answer.elapsed_ms:.0f} ms)")
    return "\n".join(lines)
