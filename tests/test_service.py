"""The question-answering service end to end, on real (small) indexes and the real model."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from answers_support import news_service, seed_service
from assistant.answers.citations import answer_to_json
from assistant.search.questions import QuestionError

SEED_ID = "jurist-2023-12-belgorod-cluster-munitions"


@pytest.fixture(scope="module")
def seed():
    return seed_service()


@pytest.fixture(scope="module")
def news():
    return news_service()


def assert_exact_slices(service, answer):
    """Every quote is the publisher's words: checked against the corpus as given, not the index's copy."""
    from answers_support import NEWS, ROOT
    from assistant.ingest.corpus import load_corpus

    originals = {d.id: d for d in (*load_corpus([ROOT / "corpus"]).documents, *NEWS)}
    for quote in (*answer.quotes, *answer.nearest):
        assert originals[quote.doc_id].text[quote.start:quote.end] == quote.text


# Golden answers over the default corpus: the first quote, where it comes from, and its figures.
GOLDEN = [
    ("How many people were killed in Belgorod?", "killed 18 people", ["killed 18 people", "injuring 108 others"]),
    ("How many people did the Russian rocket and drone attack kill?", "killed 24 people",
     ["killed 24 people", "injured 134 others"]),
    ("Who refused to take part in the Security Council meeting?", "The Czech envoy refused", []),
    ("When did the Russia-Ukraine war start?", "started in 2014", []),
]


@pytest.mark.parametrize("question, expected, figures", GOLDEN)
def test_golden_answers_on_the_seed_article(seed, question, expected, figures):
    answer = seed.ask(question)
    assert answer.answered, question
    first = answer.quotes[0]
    assert expected in first.text
    assert first.doc_id == SEED_ID and first.source == "JURIST" and first.published == "2023-12-31"
    assert [figure.text for figure in first.figures] == figures
    assert first.marker == 1
    assert_exact_slices(seed, answer)


def test_golden_payload_for_belgorod(seed):
    payload = answer_to_json(seed.ask("How many people were killed in Belgorod?"))
    first = payload["quotes"][0]
    assert first["text"] == (
        "The country’s Permanent Representative the UN Security Council called the strikes "
        "“indiscriminate” and said they killed 18 people, including three children, in addition to "
        "injuring 108 others."
    )
    assert (first["start"], first["end"]) == (135, 327)
    assert first["context_before"].startswith("Russia accused Ukraine on Saturday")
    assert first["link"].startswith(
        "https://jurist.org/news/2023/12/russia-accuses-ukraine-of-using-cluster-munitions-in-belgorod-strikes"
        "#:~:text=The%20country%E2%80%99s%20Permanent%20Representative%20the,"
    )
    assert payload["sources"][0] == {
        "marker": 1, "markers": [q["marker"] for q in payload["quotes"]], "doc_id": SEED_ID,
        "title": "Russia accuses Ukraine of using cluster munitions in Belgorod strikes", "source": "JURIST",
        "url": "https://jurist.org/news/2023/12/russia-accuses-ukraine-of-using-cluster-munitions-in-belgorod-strikes",
        "published": "2023-12-31", "link": first["link"],
    }
    assert len(payload["quotes"]) <= 3 and payload["elapsed_ms"] > 0


@pytest.mark.parametrize("question", [
    "What is the boiling point of water at sea level?",
    "Who won the 2018 FIFA World Cup final?",
    "How do I bake sourdough bread?",
])
def test_off_topic_questions_are_declined(seed, news, question):
    for service in (seed, news):
        answer = service.ask(question)
        assert not answer.answered and answer.quotes == () and answer.sources == ()
        assert_exact_slices(service, answer)


def test_quotes_carry_neighbouring_sentences_so_he_said_reads_with_who(news):
    answer = news.ask("Did the M23 rebels take the airport in Goma?")
    assert answer.answered
    quote = next(q for q in answer.quotes if q.text.startswith("He said"))
    assert quote.context_before.startswith("M23 rebels backed by Rwanda")


def test_same_wording_from_two_outlets_is_one_quote_citing_both(news):
    answer = news.ask("How many people were killed by the missile strike on Sumy?")
    assert answer.answered
    first = answer.quotes[0]
    assert "killed nine people" in first.text
    cited = {first.source, *(ref.source for ref in first.also_in)}
    assert cited == {"Reuters", "AP"}
    assert sum("killed nine people" in quote.text for quote in answer.quotes) == 1
    assert {ref.doc_id for ref in answer.sources} >= {"sumy-reuters", "sumy-ap"}


def test_source_filter_matches_one_outlet_of_several(news):
    answer = news.ask("How many people were killed in the airstrike on a school in Gaza City?", sources=["reuters"])
    assert answer.answered
    assert {quote.doc_id for quote in answer.quotes} == {"gaza-school-0118"}
    ap = news.ask("How many people were killed in the airstrike on a school in Gaza City?", sources=["AP"])
    assert ap.answered and {q.doc_id for q in ap.quotes} <= {"gaza-school-0120", "sumy-ap"}
    assert ap.quotes[0].doc_id == "gaza-school-0120"


def test_date_filters_keep_only_reports_in_the_window(news):
    question = "How many people were killed in the airstrike on a school in Gaza City?"
    later = news.ask(question, since="2025-01-19", until="2025-01")
    assert later.answered and all("2025-01-19" <= q.published <= "2025-01-31" for q in later.quotes)
    earlier = news.ask(question, until=dt.date(2025, 1, 18))
    assert earlier.answered and {q.doc_id for q in earlier.quotes} == {"gaza-school-0118"}
    nothing = news.ask(question, since="2030")
    assert not nothing.answered and nothing.nearest == ()


def test_reports_from_the_date_the_question_names_rank_first(news):
    on_20th = news.ask("How many people did the airstrike on a Gaza City school kill on 20 January 2025?")
    assert on_20th.quotes[0].doc_id == "gaza-school-0120"
    on_18th = news.ask("How many people did the airstrike on a Gaza City school kill on 18 January 2025?")
    assert on_18th.quotes[0].doc_id == "gaza-school-0118"


def test_a_report_from_the_named_date_about_something_else_is_not_quoted(news):
    # Only the Sumy strike reports are dated 2 March 2025; the question is about Port Sudan,
    # reported on 6 May: nothing from the day asked answers, so nothing is quoted as an answer,
    # and the Port Sudan report is shown first among the nearest passages.
    from assistant.records import AnswerStatus

    answer = news.ask("How many drone attacks hit Port Sudan on 2 March 2025?")
    assert answer.status is AnswerStatus.DETAIL_MISSING and answer.quotes == ()
    assert answer.nearest[0].doc_id == "port-sudan"


def test_figures_from_two_outlets_are_compared_side_by_side(news):
    payload = answer_to_json(news.ask("How many people were killed in the airstrike on a school in Gaza City?"))
    groups = {group["source"]: group for group in payload["comparison"]}
    assert {"Reuters; Al Jazeera", "AP"} <= set(groups)
    assert [f["text"] for f in groups["Reuters; Al Jazeera"]["figures"]] == ["killed 12 people"]
    assert [f["text"] for f in groups["AP"]["figures"]] == ["killed at least 15 people"]


@pytest.mark.parametrize("question, message", [
    ("", "empty"), ("   ", "empty"), ("x" * 1001, "too long"), ("who\x00", "control character"),
])
def test_bad_questions_raise_one_line_errors(seed, question, message):
    with pytest.raises(QuestionError, match=message) as caught:
        seed.ask(question)
    assert "\n" not in str(caught.value)


def test_bad_date_filter_is_a_question_error(seed):
    with pytest.raises(QuestionError, match="cannot read date 'yesterday'"):
        seed.ask("How many were killed?", since="yesterday")
    with pytest.raises(QuestionError, match="after"):
        seed.ask("How many were killed?", since="2025-02-01", until="2025-01-01")


def test_html_in_a_question_is_read_as_text(seed):
    answer = seed.ask("<b>How many</b> people were <script>x()</script>killed in **Belgorod**?")
    assert answer.question == "How many people were killed in Belgorod?"
    assert "killed 18 people" in answer.quotes[0].text


def test_sources_lists_each_outlet_once(news):
    assert news.sources() == ["Al Jazeera", "AP", "BBC News", "France 24", "Reuters"]


def test_concurrent_questions_get_their_own_answers(news):
    questions = {"How many people were killed by the missile strike on Sumy?": "killed nine people",
                 "What set the fuel depot in Port Sudan on fire?": "Drone attacks on Port Sudan"}
    results: dict[str, str] = {}

    def ask(question: str) -> None:
        results[question] = news.ask(question).quotes[0].text

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for question, expected in questions.items():
        assert expected in results[question]


def test_a_rebuilt_index_is_picked_up_without_a_restart():
    from answers_support import NEWS, build, embedder
    from assistant.service import QAService
    from assistant.settings import Settings

    index_dir = build("reload", NEWS[:4])
    service = QAService(Settings(index_dir=index_dir), embedder=embedder())
    question = "What set the fuel depot in Port Sudan on fire?"
    assert not service.ask(question).answered
    before = service.health()["index_version"]
    build("reload", NEWS)
    answer = service.ask(question)
    assert answer.answered and answer.quotes[0].doc_id == "port-sudan"
    assert service.health()["index_version"] != before
    assert "BBC News" in service.sources()


def test_a_vague_question_is_asked_to_be_more_specific(news):
    from assistant.records import AnswerStatus

    answer = news.ask("Who is responsible?")
    assert answer.status is AnswerStatus.TOO_VAGUE and not answer.answered
    assert answer.quotes == () and answer.nearest == ()
    assert answer_to_json(answer)["message"].startswith("Please be more specific")


def test_a_question_naming_a_period_gets_no_quote_from_outside_it(news):
    from assistant.records import AnswerStatus

    answer = news.ask("How many people did the Israeli airstrike on the school in Gaza City kill in March 2025?")
    # Both Gaza reports are from January 2025: nothing from March may be quoted as the answer.
    assert answer.status is AnswerStatus.DETAIL_MISSING and answer.quotes == ()
    inside = news.ask("How many people did the Israeli airstrike on the school in Gaza City kill in January 2025?")
    assert inside.answered
    assert all(q.published.startswith("2025-01") for q in inside.quotes)


def test_a_sentence_naming_the_period_asked_counts_as_inside_it():
    import datetime as dt

    from assistant.search.ranking import names_period

    january_2020 = [(dt.date(2020, 1, 1), dt.date(2020, 1, 31))]
    assert names_period("Soleimani was killed in a US drone strike in January 2020.", january_2020)
    assert not names_period("Soleimani was killed in a US drone strike in 2020.", january_2020)
    assert not names_period("A drone strike in January 2025 killed two.", january_2020)
    assert names_period("The war began in 2014.", [(dt.date(2014, 1, 1), dt.date(2014, 12, 31))])
