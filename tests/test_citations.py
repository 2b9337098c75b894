"""Citations: highlight links, the JSON answer payload and the terminal rendering."""

from __future__ import annotations

import json
from urllib.parse import unquote

from assistant.answers.citations import answer_to_json, link_with_fragment, quote_link, render_text, text_fragment
from assistant.answers.figures import find_figures
from assistant.records import Answer, Attribution, CitedReport, Quote, SourceRef

URL = "https://jurist.org/news/2023/12/russia-accuses-ukraine"


def make_quote(text: str, *, marker: int = 1, source: str = "JURIST", published: str = "2023-12-31",
               doc_id: str = "doc-1", url: str | None = URL, also_in: tuple[SourceRef, ...] = ()) -> Quote:
    return Quote(text=text, doc_id=doc_id, title="Belgorod strikes", source=source, url=url,
                 published=published, start=10, end=10 + len(text), score=1.0,
                 context_before="Earlier sentence.", context_after="Later sentence.",
                 figures=find_figures(text), also_in=also_in, marker=marker)


def test_short_sentence_fragment_is_the_whole_sentence_percent_encoded():
    assert text_fragment("Two soldiers were killed, officials said.") == (
        "text=Two%20soldiers%20were%20killed%2C%20officials%20said."
    )


def test_fragment_escapes_dash_comma_and_ampersand():
    fragment = text_fragment("Russia-Ukraine talks: A & B, then C-D.")
    assert "-" not in fragment.removeprefix("text=")
    assert "%2D" in fragment and "%2C" in fragment and "%26" in fragment
    assert unquote(fragment.removeprefix("text=")) == "Russia-Ukraine talks: A & B, then C-D."


def test_long_sentence_uses_text_start_and_text_end():
    sentence = ("The country's Permanent Representative to the UN Security Council said the strikes "
                "killed 18 people, including three children, in addition to injuring 108 others.")
    fragment = text_fragment(sentence)
    start, end = fragment.removeprefix("text=").split(",")
    assert unquote(start) == "The country's Permanent Representative to"
    assert unquote(end) == "addition to injuring 108 others."


def test_links_only_for_http_urls_and_keep_an_existing_fragment():
    assert link_with_fragment(None, "x") is None
    assert link_with_fragment("file:///etc/passwd", "x") is None
    assert link_with_fragment("javascript:alert(1)", "x") is None
    assert link_with_fragment("https://a.org/p#top", "Hello world.") == "https://a.org/p#top:~:text=Hello%20world."
    assert quote_link(make_quote("Hello world.")) == f"{URL}#:~:text=Hello%20world."


def test_answer_json_has_quotes_sources_and_markers():
    duplicate = SourceRef(doc_id="doc-2", title="Same wording", source="Reuters", url="https://r.com/a",
                          published="2023-12-31")
    answer = Answer(question="How many were killed?", answered=True, elapsed_ms=12.345,
                    quotes=(make_quote("They killed 18 people.", also_in=(duplicate,)),),
                    sources=())
    payload = json.loads(json.dumps(answer_to_json(answer)))
    assert payload["answered"] is True and payload["message"] is None
    quote = payload["quotes"][0]
    assert quote["marker"] == 1 and quote["link"].startswith(URL + "#:~:text=")
    assert quote["figures"] == [{"category": "killed", "low": 18, "high": 18, "vague": None,
                                 "start": 5, "end": 21, "includes": []}]
    assert quote["also_in"][0]["source"] == "Reuters"
    assert [(s["marker"], s["markers"], s["source"]) for s in payload["sources"]] == [
        (1, [1], "JURIST"), (1, [1], "Reuters")]
    assert payload["elapsed_ms"] == 12.3


def corpus_quote(text: str, *, marker: int, source: str, published: str, title: str, doc_id: str) -> Quote:
    return Quote(text=text, doc_id=doc_id, title=title, source=source, url=URL, published=published,
                 start=0, end=len(text), score=1.0, figures=find_figures(text), marker=marker)


# Items of the shared conflict-news corpus (wcep-2025-04-13-001, -04-04-002, -04-05-001, 2026-07-25-008).
SUMY = corpus_quote(
    "During Palm Sunday, two Russian Iskander-M ballistic missiles carrying cluster munitions strike the "
    "centre of Sumy, Ukraine, killing at least 35 people and wounding 117 others.", marker=1,
    source="ABC News; BBC News", published="2025-04-13", title="Russo-Ukrainian War > 2025 Sumy airstrike",
    doc_id="wcep-2025-04-13-001")
KRYVYI_RIH = corpus_quote(
    "A Russian ballistic missile strike on a residential area in Kryvyi Rih, Ukraine, kills 19 people, "
    "including nine children, and injures more than 50 others.", marker=2, source="Reuters",
    published="2025-04-04", title="Russo-Ukrainian War > Kryvyi Rih strikes", doc_id="wcep-2025-04-04-002")
KRYVYI_RIH_NEXT_DAY = corpus_quote(
    "The Ukrainian government declares April 6 as a day of mourning following yesterday's Russian missile "
    "strike on Kryvyi Rih in Dnipropetrovsk Oblast, Ukraine, that killed twenty people, one of the deadliest "
    "strikes since the start of the invasion.", marker=3, source="de Volkskrant", published="2025-04-05",
    title="Russo-Ukrainian War > Kryvyi Rih strikes", doc_id="wcep-2025-04-05-001")
STRIKE_2026 = corpus_quote(
    "Ukrainian officials say a Russian drone strike on a postal facility in Sumy has killed two people.",
    marker=4, source="AFP via BGNES", published="2026-07-25",
    title="Russo-Ukrainian War > Russian attacks on civilians", doc_id="wcep-2026-07-25-008")


def test_comparison_never_sets_different_events_side_by_side():
    answer = Answer(question="How many were killed?", answered=True,
                    quotes=(SUMY, KRYVYI_RIH, STRIKE_2026))
    assert answer_to_json(answer)["comparison"] == []
    assert "Figures for one event" not in render_text(answer)


def test_reports_of_one_event_are_compared_in_date_order_with_a_disagreement_line():
    answer = Answer(question="How many were killed in Kryvyi Rih?", answered=True,
                    quotes=(KRYVYI_RIH_NEXT_DAY, SUMY, KRYVYI_RIH))
    payload = answer_to_json(answer)
    (compared,) = payload["comparison"]
    assert compared["event"] == "Kryvyi Rih strikes"
    assert [(r["source"], r["published"]) for r in compared["reports"]] == [
        ("Reuters", "2025-04-04"), ("de Volkskrant", "2025-04-05")]
    assert [(f["category"], f["value"]) for f in compared["reports"][0]["figures"]] == [
        ("killed", "19"), ("injured", "at least 50")]
    assert compared["timeline"]["killed"].startswith("19 → 20, as reported on 2025-04-04 (Reuters)")
    assert compared["disagreement"] == (
        "The reports differ (killed): Reuters (2025-04-04) gives 19; de Volkskrant (2025-04-05) gives 20.")
    assert payload["comparison_note"]
    text = render_text(answer)
    assert text.index(compared["disagreement"]) < text.index("Reuters (2025-04-04): killed 19 [2]")


def test_single_outlet_has_no_comparison():
    answer = Answer(question="q?", answered=True, quotes=(make_quote("They killed 18 people."),))
    assert answer_to_json(answer)["comparison"] == []


def test_abstention_is_labelled_in_json_and_text():
    nearest = make_quote("Something related but not an answer.", marker=0)
    answer = Answer(question="What is the capital of Mars?", answered=False, nearest=(nearest,))
    payload = answer_to_json(answer)
    assert payload["answered"] is False and payload["quotes"] == [] and payload["sources"] == []
    assert payload["message"] == "The corpus does not answer this question."
    assert payload["nearest_label"].endswith("do not answer the question.")
    text = render_text(answer)
    assert "does not answer" in text and "do not answer the question" in text


def test_each_outcome_has_a_status_and_message_in_json_and_text():
    from assistant.records import AnswerStatus

    nearest = make_quote("A strike on the city was reported.", marker=0)
    missing = Answer(question="How many children were killed?", answered=False, nearest=(nearest,),
                     status=AnswerStatus.DETAIL_MISSING)
    payload = answer_to_json(missing)
    assert payload["status"] == "detail_missing" and payload["quotes"] == []
    assert "detail asked for" in payload["message"] and payload["message"] != "The corpus does not answer this question."
    assert payload["nearest_label"] == "Nearest passages on the topic; they do not give the detail asked for."
    assert "do not give the detail asked for" in render_text(missing)
    assert "period" not in payload["message"]  # the question names no period
    in_june = answer_to_json(Answer(question="How many children were killed in June 2025?", answered=False,
                                    nearest=(nearest,), status=AnswerStatus.DETAIL_MISSING))
    assert in_june["message"].endswith("(or none from the period asked).")
    vague = answer_to_json(Answer(question="What happened?", answered=False, status=AnswerStatus.TOO_VAGUE))
    assert vague["status"] == "too_vague" and vague["message"].startswith("Please be more specific")
    assert vague["nearest"] == [] and vague["nearest_label"] is None
    assert answer_to_json(Answer(question="q", answered=False))["status"] == "not_in_corpus"
    assert answer_to_json(Answer(question="q", answered=True, quotes=(nearest,)))["status"] == "answered"


def test_quotes_from_one_article_share_its_source_entry():
    answer = Answer(question="q?", answered=True, quotes=(
        make_quote("They killed 18 people.", marker=1), make_quote("Others were hurt.", marker=2)))
    sources = answer_to_json(answer)["sources"]
    assert len(sources) == 1 and sources[0]["markers"] == [1, 2]
    assert "[1][2] JURIST: Belgorod strikes" in render_text(answer)


def test_long_context_is_clipped_at_a_word():
    long_before = "word " * 60 + "Earlier sentence."
    quote = Quote(text="Quoted.", doc_id="d", title="t", source="S", url=None, published=None, start=0,
                  end=7, score=1.0, context_before=long_before, marker=1)
    line = next(l for l in render_text(Answer(question="q?", answered=True, quotes=(quote,))).splitlines()
                if l.strip().startswith("…"))
    assert line.strip().startswith("…word ")


def test_terminal_text_shows_marker_quote_context_and_source():
    text = render_text(Answer(question="How many?", answered=True, elapsed_ms=5,
                              quotes=(make_quote("They killed 18 people."),)))
    assert '[1] "They killed 18 people."' in text
    assert "Earlier sentence." in text
    assert "JURIST" in text and URL in text and "figures: killed 18" in text


PORTAL = "https://en.wikipedia.org/wiki/Portal:Current_events/2025_January_1"
WIKIPEDIA = Attribution(
    publisher="Wikipedia Portal:Current events", publisher_url=PORTAL,
    cites=(CitedReport(name="Al Jazeera", url="https://aljazeera.com/a"),
           CitedReport(name="Reuters", url="https://reuters.com/b")),
    license="CC BY-SA 4.0 (text: Wikipedia contributors, Portal:Current events)")


def portal_quote(**overrides: object) -> Quote:
    fields = dict(text="Israeli airstrikes kill 26 Palestinians.", doc_id="wcep-1", title="Gaza war",
                  source="Al Jazeera; Reuters", url="https://aljazeera.com/a", published="2025-01-01",
                  start=0, end=40, score=1.0, marker=1, attribution=WIKIPEDIA)
    fields.update(overrides)
    return Quote(**fields)


def test_each_quote_and_source_names_publisher_cited_reports_and_license():
    payload = answer_to_json(Answer(question="q?", answered=True, quotes=(portal_quote(),)))
    quote, source = payload["quotes"][0], payload["sources"][0]
    for entry in (quote, source):
        assert entry["publisher"] == "Wikipedia, Portal:Current events"
        assert entry["cites"] == [{"name": "Al Jazeera", "url": "https://aljazeera.com/a"},
                                  {"name": "Reuters", "url": "https://reuters.com/b"}]
        assert entry["license"].startswith("CC BY-SA 4.0")
        assert entry["license_url"] == "https://creativecommons.org/licenses/by-sa/4.0/"
        assert entry["source"] == "Al Jazeera; Reuters" and entry["url"] == "https://aljazeera.com/a"  # kept


def test_text_fragment_only_on_the_page_holding_the_words():
    payload = answer_to_json(Answer(question="q?", answered=True, quotes=(portal_quote(),)))
    assert payload["quotes"][0]["link"].startswith(PORTAL + "#:~:text=")
    assert payload["sources"][0]["link"].startswith(PORTAL + "#:~:text=")
    links = json.dumps(payload["quotes"][0]["cites"] + payload["sources"][0]["cites"])
    assert "#:~:" not in links
    # Publisher page unknown and the url is a cited report's: no deep link at all.
    unknown = portal_quote(attribution=Attribution(publisher="Wikipedia", cites=WIKIPEDIA.cites))
    assert quote_link(unknown) is None
    assert "#:~:" not in json.dumps(answer_to_json(Answer(question="q?", answered=True, quotes=(unknown,))))


def test_merged_duplicate_keeps_its_own_attribution():
    wikinews = Attribution(publisher="Wikinews", publisher_url="https://en.wikinews.org/wiki/X",
                           license="CC BY 2.5")
    also = SourceRef(doc_id="wn", title="X", source="Wikinews", url="https://en.wikinews.org/wiki/X",
                     published="2025-01-01", attribution=wikinews)
    payload = answer_to_json(Answer(question="q?", answered=True, quotes=(portal_quote(also_in=(also,)),)))
    (duplicate,) = payload["quotes"][0]["also_in"]
    assert (duplicate["publisher"], duplicate["cites"], duplicate["license"]) == ("Wikinews", [], "CC BY 2.5")
    assert duplicate["link"].startswith("https://en.wikinews.org/wiki/X#:~:text=")


def test_terminal_text_gives_the_byline_cited_reports_and_license():
    text = render_text(Answer(question="q?", answered=True, quotes=(portal_quote(),)))
    assert "— Wikipedia, Portal:Current events · citing Al Jazeera, Reuters: \"Gaza war\"" in text
    assert "citing Reuters: https://reuters.com/b" in text
    assert "license: CC BY-SA 4.0 (text: Wikipedia contributors, Portal:Current events)" in text
    assert f"— {PORTAL}#:~:text=" in text
