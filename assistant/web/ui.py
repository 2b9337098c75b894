"""The chat in the browser: answers as cited block quotes, with filters beside the chat.

Rendering is pure (`render_answer`: Answer -> HTML string). Every piece of corpus
text and every question is escaped before it reaches the page, and the chatbot
shows messages as sanitised HTML without Markdown or LaTeX, so a document holding
`<script>`, `[x](javascript:...)` or `$$...$$` is shown as the characters it is.
`build_chat` wires the rendering into Gradio Blocks; only this module and the
server import Gradio.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from urllib.parse import quote as url_quote
from urllib.parse import urlsplit

import gradio as gr

from assistant.answers.citations import (
    COMPARISON_NOTE, NEAREST_LABEL, NO_MORE_QUOTES, NOT_ANSWERED, answer_to_json, attribution_of, comparison,
    http_url, license_url, no_more_quotes, outcome_wording, quote_link,
)
from assistant.ingest.outlets import Credit, cited_outlets, publisher_name
from assistant.records import Answer, AnswerStatus, Attribution, Quote
from assistant.web.layout import (
    SORT_LABELS, AskedWith, answer_tools, conversation_links, date_problem, filter_chips, first_screen,
    permalink_fields, without_chip,
)
from assistant.web.timeline import render_timeline

if TYPE_CHECKING:
    from assistant.service import QAService

logger = logging.getLogger(__name__)

APP_TITLE = "Ask the reporting"
CHIP_CLICKS = ("element.addEventListener('click', (event) => { const chip = event.target.closest('.cqa-chip'); "
               "if (chip) trigger('click', {kind: chip.dataset.kind, value: chip.dataset.value}); });")
"""The filter chips' script: a click on a chip becomes the component's click event with what to remove."""
PAGER_CLICKS = ("document.addEventListener('click', (event) => { const link = event.target.closest && "
                "event.target.closest('#cqa-chat a.cqa-more, #cqa-chat a.cqa-sort'); if (!link) return; "
                "event.preventDefault(); event.stopPropagation(); if (link.getAttribute('aria-busy')) return; "
                "link.setAttribute('aria-busy', 'true'); "
                "trigger('click', {query: new URL(link.href, location.href).search.slice(1)}); }, true);")
""""More results" and the order links under an answer: a click becomes the pager component's click
event carrying the link's permalink query to ask (without script the links open that permalink)."""
EXAMPLES_WAIT_SECONDS = 20.0
"""How long a page load waits for example questions still being checked (layout.first_screen)."""
SOURCE_ROUTE = "/source"
"""The app route that shows a whole stored article (served by assistant/web/server.py)."""


def static_js(name: str) -> str:
    """A script shipped in assistant/web/static (run by a gr.HTML js_on_load)."""
    from importlib import resources

    return resources.files("assistant.web").joinpath("static", name).read_text(encoding="utf-8")


def esc(text: str | None) -> str:
    """`text` as HTML text: markup characters and quotes become entities."""
    return html.escape(text or "", quote=True)


_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def text_direction(language: str | None) -> str:
    """` dir="auto" lang="xx"`: the browser sets the direction from the text's first strong
    letter (Arabic and Hebrew read right to left) and `lang` names the document's language
    (left out when unknown or not a well-formed tag)."""
    tag = (language or "").strip().lower()
    return f' dir="auto" lang="{tag}"' if _LANGUAGE_TAG.fullmatch(tag) else ' dir="auto"'


def source_href(quote: Quote) -> str:
    """The in-app link to the quote's article, scrolled to the quoted sentence."""
    return (f"{SOURCE_ROUTE}/{url_quote(quote.doc_id, safe='')}"
            f"?start={quote.start}&end={quote.end}#quote")


def display_date(published: str | None) -> str:
    """'2024-05-12' -> '12 May 2024'; anything unreadable is shown as given."""
    if not published:
        return "date unknown"
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        return published
    return f"{day.day} {day.strftime('%B %Y')}"


def _quote_text(quote: Quote) -> str:
    """The quote escaped, with its casualty figures emphasised (offsets index the quote)."""
    pieces, cursor = [], 0
    for figure in sorted(quote.figures, key=lambda f: f.start):
        if figure.start < cursor or figure.end > len(quote.text):
            continue  # overlapping or out-of-range figures are shown as plain text
        pieces.append(esc(quote.text[cursor:figure.start]))
        pieces.append(f'<strong class="cqa-figure">{esc(quote.text[figure.start:figure.end])}</strong>')
        cursor = figure.end
    pieces.append(esc(quote.text[cursor:]))
    return "".join(pieces)


def _marker(quote: Quote, number: int) -> str:
    title = esc(f"Open the article: {quote.title}")
    return f'<a class="cqa-marker" href="{esc(source_href(quote))}" title="{title}">[{number}]</a>'


def _external(url: str, text: str, *, css: str, label: str | None = None) -> str:
    """A link that leaves the app, opened in a new tab without a referrer; `url` must be http(s)."""
    aria = f' aria-label="{esc(label)}" title="{esc(label)}"' if label else ""
    return (f'<a class="{css}" href="{esc(url)}" rel="noopener noreferrer" target="_blank"{aria}>'
            f"{esc(text)}</a>")


def cited_reports(attribution: Attribution) -> str:
    """ "citing Al Jazeera ↗, Reuters ↗": plain links to the reports (no text fragment: the
    quoted words are the publisher's, not theirs); empty when nothing is cited."""
    outlets = []
    for outlet in cited_outlets(attribution.cites):
        urls = [url for url in map(http_url, outlet.urls) if url]
        if not urls:
            outlets.append(f'<span class="cqa-cited">{esc(outlet.name)}</span>')
            continue
        first = _external(urls[0], f"{outlet.name} ↗", css="cqa-cited")
        # Several reports of one outlet: "SOHR ↗ (report 2 ↗)", not a bare second arrow.
        more = [_external(url, f"report {number} ↗", css="cqa-cited", label=f"{outlet.name}, report {number}")
                for number, url in enumerate(urls[1:], start=2)]
        outlets.append(first + (f" ({', '.join(more)})" if more else ""))
    return f'<span class="cqa-cites">citing {", ".join(outlets)}</span>' if outlets else ""


def attribution_line(attribution: Attribution) -> str:
    """ "Wikipedia, Portal:Current events · citing Al Jazeera ↗, Reuters ↗" as HTML."""
    publisher = f'<span class="cqa-publisher">{esc(publisher_name(attribution.publisher))}</span>'
    cited = cited_reports(attribution)
    return f"{publisher} · {cited}" if cited else publisher


def license_html(license: str | None) -> str:
    """The license as stated, linked to its Creative Commons deed when it names one."""
    if not license:
        return '<span class="cqa-license">license not stated</span>'
    url = license_url(license)
    text = _external(url, license, css="cqa-license-link") if url else esc(license)
    return f'<span class="cqa-license">{text}</span>'


def credits_html(credits: Sequence[Credit], *, limit: int = 8) -> str:
    """The footer naming every publisher in the index with its license (the largest `limit`)."""
    if not credits:
        return ""
    items = [f"{esc(credit.publisher)} ({credit.documents:,} {'item' if credit.documents == 1 else 'items'}): "
             f"{license_html(credit.license)}" for credit in credits[:limit]]
    more = len(credits) - limit
    if more > 0:
        items.append(f"and {more:,} more publishers (see <code>conflict-qa stats</code>)")
    return f'<footer class="cqa-credits"><p>Quoted texts: {"; ".join(items)}.</p></footer>'


def _blockquote(quote: Quote, number: int, *, nearest: bool) -> str:
    if quote.event and quote.event.get("coded"):
        return _event_row(quote, number)
    before = (f'<span class="cqa-context">{esc(quote.context_before)}</span> '
              if quote.context_before else "")
    after = (f' <span class="cqa-context">{esc(quote.context_after)}</span>'
             if quote.context_after else "")
    kind = "cqa-quote cqa-nearest" if nearest else "cqa-quote"
    # Figures are emphasised only in answers: a passage that does not answer makes no claim.
    said = esc(quote.text) if nearest else _quote_text(quote)
    return (f'<blockquote class="{kind}"><p{text_direction(quote.language)}>'
            f'{before}<span class="cqa-said">{said}</span>'
            f'{_marker(quote, number)}{after}</p>'
            f'<p class="cqa-byline">{attribution_line(attribution_of(quote))} · '
            f'{esc(display_date(quote.published))}</p>'
            "</blockquote>")


def _event_row(quote: Quote, number: int) -> str:
    """A coded event (UCDP): its data row, labelled, with no quotation marks or quote styling."""
    from assistant.answers.coded_events import event_line

    return (f'<div class="cqa-event"><p><span class="cqa-event-label">Coded event (data, not a quote)'
            f'</span> {esc(event_line(quote.event))}{_marker(quote, number)}</p>'
            f'<p class="cqa-byline">{attribution_line(attribution_of(quote))}</p></div>')


def _source_item(cited: list[tuple[Quote, int]]) -> str:
    """One cited document: every marker pointing at it, publisher, title, date, the page holding
    the words (highlighted by a text fragment), the reports it cites, and its license."""
    quote = cited[0][0]
    attribution = attribution_of(quote)
    markers = "".join(f'<span class="cqa-num">[{number}]</span>' for _, number in cited)
    link = quote_link(quote)
    original = (" · " + _external(link, f"{_host(link)} ↗", css="cqa-original",
                                  label="Open the quoted words on the publisher's page")
                if link else "")
    cites = cited_reports(attribution)
    also = ""
    if quote.also_in:
        names = "; ".join(attribution_line(attribution_of(ref)) for ref in quote.also_in)
        also = f'<span class="cqa-also"> · same wording also in {names}</span>'
    return (f'<li>{markers} <span class="cqa-outlet">{esc(publisher_name(attribution.publisher))}</span>'
            f' · <a class="cqa-title" href="{esc(source_href(quote))}"{text_direction(quote.language)}>'
            f'{esc(quote.title)}</a>'
            f' · <time>{esc(display_date(quote.published))}</time>{original}'
            f'{" · " + cites if cites else ""} · {license_html(attribution.license)}{also}</li>')


def _host(url: str) -> str:
    host = urlsplit(url).netloc
    return host[4:] if host.startswith("www.") else host


def numbered(quotes: Sequence[Quote]) -> list[tuple[Quote, int]]:
    """Each quote with its citation number: its marker, or its position when unmarked."""
    return [(quote, quote.marker or position) for position, quote in enumerate(quotes, start=1)]


def _comparison_table(answer: Answer) -> str:
    """One table per event whose reports give figures (citations.comparison), columns in date order.

    A line above the table names the outlets when their figures differ; the figures
    over time are listed below it.
    """
    tables = []
    for compared in comparison(answer):
        reports = compared["reports"]
        categories = list(dict.fromkeys(figure["category"] for report in reports for figure in report["figures"]))
        head = "".join(f"<th>{esc(report['reported_by'])}<br><small>{esc(display_date(report['published']))}</small></th>"
                       for report in reports)
        rows = []
        for category in categories:
            cells = []
            for report in reports:
                values = [f"{figure['value']} [{figure['marker']}]" for figure in report["figures"]
                          if figure["category"] == category]
                cells.append(f"<td>{esc(', '.join(dict.fromkeys(values)) or '—')}</td>")
            rows.append(f"<tr><th>{esc(category)}</th>{''.join(cells)}</tr>")
        differ = (f'<p class="cqa-differ">{esc(compared["disagreement"])}</p>'
                  if compared["disagreement"] else "")
        over_time = "".join(f'<li>{esc(category)}: {esc(line)}</li>'
                            for category, line in compared["timeline"].items())
        tables.append(
            f'<div class="cqa-compare"><p class="cqa-heading">Figures for one event: {esc(compared["event"])}</p>'
            f"{differ}<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f'<ul class="cqa-timeline">{over_time}</ul>'
            f'<p class="cqa-byline">{esc(COMPARISON_NOTE)}</p></div>')
    return "".join(tables)


def _sources_list(quotes: Sequence[Quote], heading: str) -> str:
    by_document: dict[str, list[tuple[Quote, int]]] = {}
    for quote, number in numbered(quotes):
        cited = by_document.setdefault(quote.doc_id, [])
        if number not in (n for _, n in cited):
            cited.append((quote, number))
    items = "".join(_source_item(cited) for cited in by_document.values())
    return f'<div class="cqa-sources"><p class="cqa-heading">{esc(heading)}</p><ol>{items}</ol></div>'


def render_answer(answer: Answer) -> str:
    """The assistant's chat message for `answer`, as HTML with every text escaped.

    Answered: the quotes as block quotes with [n] markers (each opening the article
    in the app), quieter attribution context around them, a figures table when the
    outlets disagree, then the sources. Not answered: a plain statement, then the
    closest passages labelled as not answering (wording from assistant.answers.citations).
    """
    heading = _page_heading(answer)
    if answer.answered and answer.quotes:
        quotes = "".join(_blockquote(q, n, nearest=False) for q, n in numbered(answer.quotes))
        return (f'<div class="cqa-answer">{heading}{quotes}{_comparison_table(answer)}{render_timeline(answer)}'
                f'{_sources_list(answer.quotes, "Sources")}</div>')
    if no_more_quotes(answer):
        return (f'<div class="cqa-answer cqa-unanswered">{heading}'
                f'<p class="cqa-notice cqa-no-more"><strong>{esc(NO_MORE_QUOTES)}</strong></p></div>')
    message, nearest_label = outcome_wording(answer)
    status = answer.outcome.value.replace("_", "-")
    notice = f'<p class="cqa-notice cqa-{status}"><strong>{esc(message or NOT_ANSWERED)}</strong></p>'
    if not answer.nearest:
        return f'<div class="cqa-answer cqa-unanswered">{notice}</div>'
    nearest = "".join(_blockquote(q, n, nearest=True) for q, n in numbered(answer.nearest))
    return (f'<div class="cqa-answer cqa-unanswered">{notice}'
            f'<p class="cqa-heading">{esc(nearest_label or NEAREST_LABEL)}</p>'
            f'{nearest}{_sources_list(answer.nearest, "Where these passages come from")}</div>')


ORDER_WORDS = {"date": "newest first", "date-asc": "oldest first"}


def _page_heading(answer: Answer) -> str:
    """ "More results: quotes 4-6 · newest first" above a later page or a re-ordered answer."""
    order = ORDER_WORDS.get(str(getattr(answer.order, "value", answer.order)), "")
    if answer.page <= 1 and not order:
        return ""
    parts = []
    if answer.page > 1:
        markers = [quote.marker for quote in answer.quotes if quote.marker]
        if markers:
            first, last = min(markers), max(markers)
            parts.append(f"More results, page {answer.page}: quotes {first}–{last}" if last > first
                         else f"More results, page {answer.page}: quote {first}")
        else:
            parts.append(f"More results, page {answer.page}")
    if order:
        parts.append(f"ordered by publication date, {order}")
    return f'<p class="cqa-page-note">{esc(" · ".join(parts))}</p>'


def render_question(question: str) -> str:
    """The user's message, shown as the characters typed."""
    return f'<p class="cqa-question" dir="auto">{esc(question)}</p>'


def render_refusal(message: str) -> str:
    """A one-line reason a question was not asked (too long, unreadable date, ...)."""
    return f'<p class="cqa-notice cqa-refusal" dir="auto">{esc(message)}</p>'


def respond(service: QAService, question: str, sources: Sequence[str] | None,
            since: str | None, until: str | None, *, page: int = 1, sort: str = "relevance") -> str:
    """Ask `service` and render what comes back; bad input becomes a refusal message."""
    from assistant.service import QuestionError

    problem = date_problem(since, until)
    if problem:
        return render_refusal(problem)
    asked = AskedWith(question=(question or "").strip(), sources=tuple(sources or ()),
                      since=(since or "").strip() or None, until=(until or "").strip() or None,
                      page=page, sort=sort)
    try:
        answer = service.ask(question, sources=asked.sources, since=asked.since, until=asked.until,
                             page=page, order=sort)
    except QuestionError as error:
        return render_refusal(str(error))
    if answer.outcome is AnswerStatus.TOO_VAGUE:
        return render_answer(answer)  # nothing to copy, link or export: only the request to be specific
    return render_answer(answer) + answer_tools(asked, answered=answer.answered, more=answer.more,
                                                shown=len(answer.quotes))


def build_chat(service: QAService, *, compact: bool = False) -> gr.Blocks:
    """The chat as Gradio Blocks: chatbot, question box, sources and date filters.

    `compact` is the embed view for the widget's panel: no header, filters folded
    under the chat. Both views expose the same `/ask` client API (JSON answer).
    """
    def add_question(question: str, history: list[dict[str, Any]]):
        text = (question or "").strip()
        if not text:
            return gr.update(), history, ""
        history = [*history, {"role": "user", "content": render_question(text)}]
        return gr.update(value="", interactive=False), history, text

    def add_answer(question: str, history: list[dict[str, Any]], sources: list[str] | None,
                   since: str, until: str, *, page: int = 1, sort: str = "relevance"):
        if not question:
            return history
        try:
            reply = respond(service, question, sources, since, until, page=page, sort=sort)
        except Exception:  # noqa: BLE001 - the reader gets one line, the server log the traceback
            logger.exception("answering %r failed", question[:200])
            reply = render_refusal("Something went wrong while answering. Please ask again.")
        return [*history, {"role": "assistant", "content": reply}]

    def ask(question: str, sources: list[str] | None = None, since: str | None = None,
            until: str | None = None) -> dict:
        """Answer `question` from the corpus: the same JSON as `conflict-qa ask --json`."""
        from assistant.service import QuestionError

        try:
            return answer_to_json(service.ask(question, sources=tuple(sources or ()),
                                              since=since or None, until=until or None))
        except QuestionError as error:
            raise gr.Error(str(error), print_exception=False) from None

    screen = first_screen(service)

    def open_permalink(request: gr.Request):
        """`/?q=...&sources=...&since=...&until=...`: the filters set and the question asked, in one
        step (a page without `q` changes nothing and waits for nothing)."""
        asked = permalink_fields(list(request.query_params.multi_items())) if request else None
        if asked is None:
            return (gr.update(),) * 7
        history = add_answer(asked.question, add_question(asked.question, [])[1], list(asked.sources),
                             asked.since or "", asked.until or "", page=asked.page, sort=asked.sort)
        log = [] if "cqa-refusal" in str(history[-1].get("content", "")) else [asked]
        return (history, gr.update(value=list(asked.sources)), asked.since or None, asked.until or None,
                log, conversation_links(log), asked.question if not log else "")

    def restore_box(question: str, history: list[dict[str, Any]]):
        """Re-enable the box; a refused question goes back into it (the reason is in the chat)."""
        refused = bool(history) and "cqa-refusal" in str(history[-1].get("content", ""))
        return gr.update(interactive=True, value=question if refused else "")

    def record(question: str, history: list[dict[str, Any]], sources: list[str] | None,
               since: str | None, until: str | None, log: list[AskedWith]):
        """Remember an answered question for the conversation export."""
        if not question or not history or "cqa-refusal" in str(history[-1].get("content", "")):
            return log, conversation_links(log)
        log = [*log, AskedWith(question=question, sources=tuple(sources or ()),
                               since=(since or "").strip() or None, until=(until or "").strip() or None)]
        return log, conversation_links(log)

    def understand(question: str, log: list[AskedWith], sources_value: list[str] | None,
                   since_value: str | None, until_value: str | None, history: list[dict[str, Any]]):
        """A short follow-up ("And in June?", "What about Kharkiv?") becomes the previous question
        with its subject, place, period and filters (assistant/search/followups.py, rules only); the
        chat shows what was understood and the filters show what is applied."""
        from assistant.search.followups import Asked, resolve

        unchanged = (question, gr.update(), gr.update(), gr.update(), history)
        if not question or not log:
            return unchanged
        last = log[-1]
        follow = resolve(question, Asked(question=last.question, sources=last.sources, since=last.since,
                                         until=last.until),
                         sources=tuple(sources_value or ()), since=(since_value or "").strip() or None,
                         until=(until_value or "").strip() or None)
        if follow.rule is None:
            return unchanged
        note = {"role": "assistant", "content": f'<p class="cqa-understood">{esc(follow.understood)}</p>'}
        return (follow.asked.question, gr.update(value=list(follow.asked.sources)), follow.asked.since,
                follow.asked.until, [*history, note])

    def check_dates(since_value: str | None, until_value: str | None) -> str:
        problem = date_problem(since_value, until_value)
        return f'<p class="cqa-date-problem" role="alert">{esc(problem)}</p>' if problem else ""

    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, fill_height=True) as blocks:
        if not compact:
            gr.HTML(f'<header class="cqa-header"><h1>{esc(APP_TITLE)}</h1><p>Answers are sentences '
                    "quoted word for word from the stored articles, each with its source. When the "
                    "articles do not say, the assistant says so.</p></header>")
        # The compact view stacks the filters under the chat; the full view puts them beside it.
        layout = (gr.Column(elem_classes="cqa-main") if compact
                  else gr.Row(equal_height=False, elem_classes="cqa-main"))
        with layout:
            with gr.Column(scale=4, elem_classes="cqa-chat-column"):
                chatbot = gr.Chatbot(
                    show_label=False, elem_id="cqa-chat", render_markdown=False, sanitize_html=True,
                    latex_delimiters=[], feedback_options=None, buttons=[], layout="panel",
                    height=520 if compact else 560, min_height=240, autoscroll=False,
                    placeholder=f'<div class="cqa-empty">{screen.overview_html}</div>',
                    examples=[{"text": text} for text in screen.examples])
                textbox = gr.Textbox(show_label=False, placeholder="Ask a question about the reporting…",
                                     submit_btn="Ask", elem_id="cqa-question", autofocus=not compact,
                                     lines=1, max_lines=4)
                chips = gr.HTML(filter_chips((), None, None), elem_id="cqa-chips", padding=False,
                                js_on_load=CHIP_CLICKS)
                conversation = gr.HTML("", elem_id="cqa-conversation", padding=False)
                if not compact:
                    gr.HTML('<nav class="cqa-links" aria-label="More"><a href="/docs">HTTP API and answer '
                            'format</a><a href="/examples/embed.html">Embed the chat in a page</a></nav>',
                            padding=False)
                gr.HTML("", elem_id="cqa-script", padding=False, js_on_load=static_js("chat.js"))
                pager = gr.HTML("", elem_id="cqa-pager-events", padding=False, js_on_load=PAGER_CLICKS)
            filters = (gr.Accordion("Filters", open=False, elem_classes="cqa-filters-compact",
                                    elem_id="cqa-filters") if compact
                       else gr.Column(scale=1, min_width=220, elem_classes="cqa-filters", elem_id="cqa-filters"))
            with filters:
                sources = gr.Dropdown(choices=service.sources(), value=[], multiselect=True,
                                      label="Sources", info="All sources when none is chosen",
                                      elem_id="cqa-sources")
                since = gr.DateTime(label="From", include_time=False, type="string", elem_id="cqa-since",
                                    info="Pick a day from the calendar, or type it as YYYY-MM-DD")
                until = gr.DateTime(label="Until", include_time=False, type="string", elem_id="cqa-until")
                date_note = gr.HTML("", elem_id="cqa-date-note", padding=False)
                if not compact:  # closes the phone's filter drawer (hidden on wide screens)
                    gr.HTML('<button type="button" class="cqa-drawer-close">Done</button>', padding=False)
        pending = gr.State("")
        # Credits the publishers and licenses of the loaded index (CC BY-SA requires attribution).
        credits = gr.HTML(credits_html(service.credits()), elem_id="cqa-credits")
        # The conversation lives in server-side State: the chatbot is only ever an output, so
        # no event reads chat messages (which may name files) from the client.
        history = gr.State([])
        asked_log = gr.State([])
        for field in (since, until):
            field.change(check_dates, [since, until], date_note, api_visibility="private")
        for field in (sources, since, until):
            field.change(filter_chips, [sources, since, until], chips, api_visibility="private")

        def remove_chip(sources_value: list[str] | None, since_value: str | None, until_value: str | None,
                        event: gr.EventData):
            data = getattr(event, "_data", None) or {}
            return without_chip(str(data.get("kind", "")), str(data.get("value", "")),
                                sources_value, since_value, until_value)

        chips.click(remove_chip, [sources, since, until], [sources, since, until], api_visibility="private")

        def page_or_order(messages: list[dict[str, Any]], log: list[AskedWith], event: gr.EventData):
            """ "More results" or an order link: the same question asked for that page or order,
            answered as a new message (the filters it was asked with travel in the link)."""
            data = getattr(event, "_data", None) or {}
            asked = permalink_fields(parse_qsl(str(data.get("query", ""))[:4000]))
            if asked is None:
                return messages, messages, log, conversation_links(log)
            what = (f"More results (page {asked.page})" if asked.page > 1
                    else f"Order: {dict(SORT_LABELS).get(asked.sort, asked.sort)}")
            messages = [*messages, {"role": "user", "content": render_question(f"{what}: {asked.question}")}]
            messages = add_answer(asked.question, messages, list(asked.sources), asked.since or "",
                                  asked.until or "", page=asked.page, sort=asked.sort)
            if "cqa-refusal" not in str(messages[-1].get("content", "")):
                log = [*log, asked]
            return messages, messages, log, conversation_links(log)

        pager.click(page_or_order, [history, asked_log], [chatbot, history, asked_log, conversation],
                    api_visibility="private")

        def shown(messages: list[dict[str, Any]]):
            return messages, messages

        def asked_question(question: str, messages: list[dict[str, Any]]):
            box, messages, text = add_question(question, messages)
            return box, messages, messages, text

        def picked(messages: list[dict[str, Any]], event: gr.SelectData):
            text = event.value.get("text") if isinstance(event.value, dict) else None
            return asked_question(text if isinstance(text, str) else "", messages)

        def understood(question: str, log: list[AskedWith], sources_value: list[str] | None,
                       since_value: str | None, until_value: str | None, messages: list[dict[str, Any]]):
            *rewritten, messages = understand(question, log, sources_value, since_value, until_value, messages)
            return (*rewritten, *shown(messages))

        def answered(question: str, messages: list[dict[str, Any]], sources: list[str] | None,
                     since: str, until: str):
            return shown(add_answer(question, messages, sources, since, until))

        def permalink_opened(request: gr.Request):
            opened = open_permalink(request)
            return (*opened, opened[0] if isinstance(opened[0], list) else gr.update())

        answer_inputs = [pending, history, sources, since, until]
        for asked in (textbox.submit(asked_question, [textbox, history], [textbox, chatbot, history, pending],
                                     api_visibility="private"),
                      chatbot.example_select(picked, [history], [textbox, chatbot, history, pending],
                                             api_visibility="private")):
            asked.then(understood, [pending, asked_log, sources, since, until, history],
                       [pending, sources, since, until, chatbot, history], api_visibility="private").then(
                answered, answer_inputs, [chatbot, history], api_visibility="private").then(
                restore_box, [pending, history], textbox, api_visibility="private").then(
                record, [pending, history, sources, since, until, asked_log], [asked_log, conversation],
                api_visibility="private")
        blocks.load(permalink_opened, None,
                    [chatbot, sources, since, until, asked_log, conversation, textbox, history],
                    api_visibility="private")
        # The index may have grown since start-up (the first start finishes it in the background).
        def refreshed_screen():
            # A page opened while the examples are still being checked waits for them a little.
            current = first_screen(service, wait_s=EXAMPLES_WAIT_SECONDS)
            return gr.update(placeholder=f'<div class="cqa-empty">{current.overview_html}</div>',
                             examples=[{"text": text} for text in current.examples])

        blocks.load(refreshed_screen, None, chatbot, api_visibility="private")
        # The index may be rebuilt while the page is open: offer its current sources.
        blocks.load(lambda: gr.update(choices=service.sources()), None, sources,
                    api_visibility="private")
        blocks.load(lambda: credits_html(service.credits()), None, credits,
                    api_visibility="private")
        gr.api(ask, api_name="ask")
    check_text_only(blocks)
    return blocks


TEXT_ONLY_INPUTS = ("Textbox", "Dropdown", "DateTime", "State", "Api")
"""The only component kinds an event may take as input: none of them carries file data
(`DateTime` is a date string here; `Api` is the typed str/list parameters of the public `ask` endpoint)."""


def check_text_only(blocks: gr.Blocks) -> None:
    """Refuse to serve Blocks where any event reads a component that could carry files.

    The allowlist of callable events is the events defined above; this check keeps
    a later edit from adding a file-carrying input (Chatbot, File, Image, ...).
    """
    for dependency in blocks.fns.values():
        for block in dependency.inputs:
            if type(block).__name__ not in TEXT_ONLY_INPUTS:
                raise TypeError(f"event {dependency.name!r} takes a {type(block).__name__} as input: "
                                "only text inputs are allowed")
