"""Citing quotes: links that highlight the sentence, JSON payloads, terminal text.

Links carry a URL text fragment (`#:~:text=`, WICG Scroll-to-Text-Fragment,
https://wicg.github.io/scroll-to-text-fragment/) so a browser that supports it
scrolls to and highlights the quoted sentence on the outlet's page.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any
from urllib.parse import quote as percent_encode
from urllib.parse import urlsplit

from assistant.records import Answer, AnswerStatus, Figure, Quote, SourceRef

FRAGMENT_WHOLE_WORDS = 10
"""Sentences of at most this many words are put whole into the fragment."""
FRAGMENT_EDGE_WORDS = 5
"""Longer sentences become `textStart,textEnd`: this many words from each end."""
NOT_ANSWERED = "The corpus does not answer this question."
NEAREST_LABEL = "Closest passages found; they do not answer the question."
DETAIL_MISSING = ("The reporting is about this, but no report gives the detail asked for"
                  " (or none from the period asked).")
DETAIL_NEAREST_LABEL = "Nearest passages on the topic; they do not give the detail asked for."
TOO_VAGUE = ("Please be more specific: name the place, the people, the event or the date you "
             "mean (e.g. \"Who attacked the Tishrin Dam?\").")


def outcome_wording(answer: Answer) -> tuple[str | None, str | None]:
    """(message, label of the nearest passages) for the answer's outcome (records.AnswerStatus)."""
    return {
        AnswerStatus.ANSWERED: (None, None),
        AnswerStatus.NOT_IN_CORPUS: (NOT_ANSWERED, NEAREST_LABEL),
        AnswerStatus.DETAIL_MISSING: (DETAIL_MISSING, DETAIL_NEAREST_LABEL),
        AnswerStatus.TOO_VAGUE: (TOO_VAGUE, None),
    }[answer.outcome]
COMPARISON_NOTE = (
    "Figures are shown as each outlet reported them; they may not describe the same event."
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


def quote_link(quote: Quote) -> str | None:
    """The quote's url with a text fragment that highlights the quoted sentence."""
    return link_with_fragment(quote.url, quote.text)


def _figure_json(figure: Figure) -> dict[str, Any]:
    return {"value": figure.value, "category": figure.category, "text": figure.text,
            "start": figure.start, "end": figure.end}


def _source_json(ref: SourceRef, *, sentence: str | None = None,
                 marker: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {} if marker is None else {"marker": marker}
    payload.update(doc_id=ref.doc_id, title=ref.title, source=ref.source, url=ref.url,
                   published=ref.published)
    payload["link"] = link_with_fragment(ref.url, sentence) if sentence else ref.url
    return payload


def quote_json(quote: Quote) -> dict[str, Any]:
    """One quote as a JSON-ready dict, with its highlight `link`."""
    return {
        "text": quote.text, "doc_id": quote.doc_id, "title": quote.title,
        "source": quote.source, "url": quote.url, "link": quote_link(quote),
        "published": quote.published, "start": quote.start, "end": quote.end,
        "score": round(float(quote.score), 4),
        "context_before": quote.context_before, "context_after": quote.context_after,
        "figures": [_figure_json(figure) for figure in quote.figures],
        "also_in": [_source_json(ref, sentence=quote.text) for ref in quote.also_in],
        "marker": quote.marker,
    }


def _quote_ref(quote: Quote) -> SourceRef:
    return SourceRef(doc_id=quote.doc_id, title=quote.title, source=quote.source,
                     url=quote.url, published=quote.published)


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
    """Quotes grouped by outlet and date, with their casualty figures side by side.

    Empty unless the quotes come from more than one outlet. Each group lists the
    markers of its quotes and each figure with the marker it came from; nothing
    here says that figures of different groups concern the same event.
    """
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for quote in answer.quotes:
        for ref in (_quote_ref(quote), *quote.also_in):
            key = (ref.source, ref.published)
            group = groups.setdefault(key, {"source": ref.source, "published": ref.published,
                                            "markers": [], "figures": []})
            if quote.marker not in group["markers"]:
                group["markers"].append(quote.marker)
                group["figures"].extend(
                    {"marker": quote.marker, **_figure_json(figure)} for figure in quote.figures
                )
    if len({source for source, _ in groups}) < 2:
        return []
    return sorted(groups.values(), key=lambda group: (group["published"] or "", group["source"]))


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """The answer as one JSON-ready object (the `--json` output and the API payload).

    Keys: question, answered, status (records.AnswerStatus value), message, quotes,
    nearest (labelled by `nearest_label`: they do not answer), sources, comparison
    (+ `comparison_note`), elapsed_ms.
    """
    message, nearest_label = outcome_wording(answer)
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
    return payload


def _describe(ref: SourceRef | Quote) -> str:
    date = f" ({ref.published})" if ref.published else ""
    return f"{ref.source}, \"{ref.title}\"{date}"


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
        if quote.context_before:
            lines.append(_wrap(_clip(quote.context_before, from_end=True), "     ", width))
        lines.append(_wrap(f"[{quote.marker}] \"{quote.text}\"", "", width))
        if quote.context_after:
            lines.append(_wrap(_clip(quote.context_after, from_end=False), "     ", width))
        lines.append(f"     — {_describe(quote)}")
        for ref in quote.also_in:
            lines.append(f"     also in: {_describe(ref)}")
        if quote.figures:
            shown = "; ".join(figure.text for figure in quote.figures)
            lines.append(f"     figures: {shown}")
        lines.append("")
    groups = comparison(answer)
    if any(group["figures"] for group in groups):
        lines.append("Figures by outlet:")
        for group in groups:
            figures = ", ".join(f"{figure['text']} [{figure['marker']}]" for figure in group["figures"])
            date = f" ({group['published']})" if group["published"] else ""
            lines.append(f"  {group['source']}{date}: {figures or '—'}")
        lines += [f"  ({COMPARISON_NOTE})", ""]
    sources = source_list(answer)
    if sources:
        lines.append("Sources:")
        for entry in sources:
            date = f", {entry['published']}" if entry["published"] else ""
            link = f" — {entry['link']}" if entry["link"] else ""
            markers = "".join(f"[{marker}]" for marker in entry["markers"])
            lines.append(f"  {markers} {entry['source']}: {entry['title']}{date}{link}")
    lines.append(f"({answer.elapsed_ms:.0f} ms)")
    return "\n".join(lines)
