"""Coded events in answers: UCDP rows found by place, period and side, shown as data, not quotes."""

from __future__ import annotations

import re

import pytest

from answers_support import NEWS, build, embedder
from assistant.answers.citations import answer_to_json, render_text
from assistant.ingest.corpus import load_corpus
from assistant.web.ui import render_answer

UCDP_CSV = (
    "id,year,type_of_violence,conflict_name,side_a,side_b,source_article,source_headline,where_description,"
    "adm_1,adm_2,country,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,deaths_unknown,best,high,low\n"
    '900001,2020,2,FPRC - RPRC,FPRC,RPRC,"Radio Ndeke Luka,2020-04-30",,Ndele town,Bamingui-Bangoran prefecture,'
    "Ndele,Central African Republic,1,2020-04-29,2020-04-29,4,6,2,0,12,15,10\n"
    '900002,2021,1,Central African Republic: Government,Government of Central African Republic,CPC,'
    '"Corbeaunews,2021-01-14",,Bangui town,Bangui prefecture,,Central African Republic,1,2021-01-13,2021-01-13,'
    "1,7,0,0,8,8,8\n"
    '900003,2019,3,UPC - Civilians,UPC,Civilians,"AFP,2019-11-02",,Bambari town,Ouaka prefecture,Bambari,'
    "Central African Republic,2,2019-10-30,2019-11-01,0,0,5,0,5,7,5\n"
)
ACLED_CSV = (
    "event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,actor2,country,admin1,admin2,"
    "location,source,notes,fatalities,timestamp\n"
    'CAF9876,2024-01-12,1,Violence against civilians,Attack,3R,Civilians (Central African Republic),'
    'Central African Republic,Ouham-Pende,Bocaranga,Koui,Radio Ndeke Luka; Corbeaunews,'
    '"On 12 January 2024, 3R combatants attacked the village of Koui (Ouham-Pende), killing 4 civilians '
    'and burning several houses.",4,1705420800\n'
)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from assistant.service import QAService
    from assistant.settings import Settings

    folder = tmp_path_factory.mktemp("events-corpus")
    (folder / "ged.csv").write_text(UCDP_CSV, encoding="utf-8")
    (folder / "acled.csv").write_text(ACLED_CSV, encoding="utf-8")
    documents = load_corpus([folder]).documents + NEWS
    return QAService(Settings(index_dir=build("events", documents)), embedder=embedder())


@pytest.mark.parametrize("question, event_id, deaths", [
    ("How many people were killed in Ndele?", "900001", "best 12 (low 10, high 15)"),
    ("How many people were killed in Bambari in 2019?", "900003", "best 5 (low 5, high 7)"),
    ("How many died in clashes between the FPRC and RPRC?", "900001", "best 12 (low 10, high 15)"),
    ("How many were killed in fighting between the government and the CPC?", "900002", "best 8 (low 8, high 8)"),
])
def test_ucdp_events_are_found_and_shown_as_labelled_data_rows(service, question, event_id, deaths):
    answer = service.ask(question)
    assert answer.answered
    first = answer.quotes[0]
    assert first.doc_id == f"ucdp-ged-{event_id}"
    payload = answer_to_json(answer)["quotes"][0]
    assert payload["kind"] == "coded-event"
    assert payload["event"]["deaths"] == deaths and payload["event"]["dataset"] == "UCDP GED"
    text = render_text(answer)
    assert f"[1] Coded event (data, not a quote): UCDP GED event {event_id} · " in text
    assert f"deaths {deaths}" in " ".join(text.split())
    assert f'"{first.text}' not in text  # never inside quotation marks
    html = render_answer(answer)
    row = re.search(r'<div class="cqa-event">.*?</div>', html, re.DOTALL)[0]
    assert "Coded event (data, not a quote)" in row and deaths in row
    assert "<blockquote" not in html.split('<div class="cqa-event">')[0]  # the first item is the row


def test_acled_notes_stay_a_quote_with_the_coded_fields_beside_it(service):
    answer = service.ask("Who attacked the village of Koui?")
    first = answer.quotes[0]
    assert first.doc_id == "acled-CAF9876" and first.source == "ACLED"
    payload = answer_to_json(answer)["quotes"][0]
    assert payload["kind"] == "quote"
    assert payload["event"]["deaths"] == "4 reported"
    assert payload["event"]["sources"] == ["Radio Ndeke Luka", "Corbeaunews"]
    text = " ".join(render_text(answer).split())
    assert f'"{first.text}"' in text and "coded as: ACLED event CAF9876 · 2024-01-12" in text


def test_reports_without_events_are_unchanged(service):
    payload = answer_to_json(service.ask("How many people were killed in Sumy?"))
    assert payload["quotes"][0]["kind"] == "quote" and payload["quotes"][0]["event"] is None


def test_country_filter_keeps_only_reports_and_events_about_that_country(service):
    # ("How many people were killed?" alone is too vague to answer: it names nothing to look for.)
    answer = service.ask("How many people were killed in village attacks?", countries=["central african republic"])
    cited = {quote.doc_id for quote in (*answer.quotes, *answer.nearest)}
    assert cited and all(doc_id.startswith(("ucdp-ged-", "acled-")) for doc_id in cited)
    elsewhere = service.ask("How many people were killed in village attacks?", countries=["Sudan"])
    assert not elsewhere.answered and elsewhere.nearest == ()


def test_event_date_filter_uses_the_coded_event_dates(service):
    answer = service.ask("How many people were killed in the Central African Republic?",
                         event_since="2021-01", event_until="2021-01")
    cited = {quote.doc_id for quote in (*answer.quotes, *answer.nearest)}
    assert cited == {"ucdp-ged-900002"}
    # An event spanning 30 Oct - 1 Nov 2019 overlaps a window that starts on 1 November.
    spanning = service.ask("How many people were killed in Bambari?", event_since="2019-11-01",
                           event_until="2019-11-30")
    assert {q.doc_id for q in (*spanning.quotes, *spanning.nearest)} == {"ucdp-ged-900003"}


def test_reversed_event_window_is_one_clear_error():
    from assistant.search.questions import QuestionError
    from assistant.service import make_filters

    with pytest.raises(QuestionError, match="event start date 2021-02-01 is after the event end date 2021-01-31"):
        make_filters(event_since="2021-02", event_until="2021-01")
