"""More results and sort by date: further pages of quotes for the same question, in the service and
the HTTP API, on 27 real conflict-news items (tests/data/newsroom_sample.jsonl)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from answers_support import build, embedder
from assistant.answers.answer import QuotePolicy, title_overlap
from assistant.answers.citations import NO_MORE_QUOTES, answer_to_json
from assistant.records import Answer, QuoteOrder
from assistant.search.questions import QuestionError

SAMPLE = Path(__file__).resolve().parent / "data" / "newsroom_sample.jsonl"
GAZA = "How many people were killed in Israeli strikes on Gaza?"


@lru_cache(maxsize=None)
def sample_index() -> Path:
    from assistant.ingest.corpus import load_corpus

    return build("newsroom-sample", load_corpus([SAMPLE]).documents)


def sample_service(policy: QuotePolicy | None = None):
    from assistant.service import QAService
    from assistant.settings import Settings

    options = {"policy": policy} if policy is not None else {}
    return QAService(Settings(index_dir=sample_index()), embedder=embedder(), **options)


@pytest.fixture(scope="module")
def service():
    return sample_service()


def all_pages(service, question: str, order: str = "relevance", **filters) -> list:
    pages = []
    for page in range(1, 11):
        answer = service.ask(question, page=page, order=order, **filters)
        pages.append(answer)
        if not answer.more:
            break
    return pages


def key(quote) -> tuple[str, int]:
    return quote.doc_id, quote.start


def test_more_results_gives_the_next_quotes_numbered_on_and_says_when_there_are_none(service) -> None:
    first, second = service.ask(GAZA), service.ask(GAZA, page=2)
    assert first.answered and len(first.quotes) == 3 and first.more
    assert second.answered and second.quotes and second.page == 2
    assert not {key(q) for q in first.quotes} & {key(q) for q in second.quotes}  # new quotes only
    assert [q.marker for q in first.quotes] == [1, 2, 3]
    assert [q.marker for q in second.quotes] == list(range(4, 4 + len(second.quotes)))
    # Page 1 is what the answer always was: asking for page 1 changes nothing.
    assert [key(q) for q in service.ask(GAZA, page=1).quotes] == [key(q) for q in first.quotes]

    pages = all_pages(service, GAZA)
    last = pages[-1]
    assert not last.more
    beyond = service.ask(GAZA, page=len(pages) + 1)
    assert beyond.answered and beyond.quotes == () and not beyond.more
    payload = answer_to_json(beyond)
    assert payload["message"] == NO_MORE_QUOTES and payload["page"] == len(pages) + 1 and payload["more"] is False


def test_every_further_quote_passes_the_tests_of_the_first_page_on_its_own(service) -> None:
    details = service.ask_details(GAZA)
    ranking, policy, search = details.ranking, service.policy, service.search_index
    rows = ranking.candidates.rows
    position_of = {(search.documents[search.sentence_doc[row]].id, int(search.sentence_start[row])): position
                   for position, row in enumerate(rows)}
    pages = all_pages(service, GAZA)
    lead = pages[0].quotes[0]
    best = float(ranking.scores[position_of[key(lead)]])
    for answer in pages[1:]:
        for quote in answer.quotes:
            position = position_of[key(quote)]
            assert ranking.own_evidence[position] >= policy.answer_threshold
            assert ranking.presence[position] >= policy.extra_presence_threshold
            assert ranking.scores[position] >= best - policy.extra_quote_margin
            assert quote.doc_id == lead.doc_id or title_overlap(quote.title, lead.title) >= \
                policy.same_story_title_overlap


def test_a_presence_test_no_further_quote_passes_leaves_one_quote_and_no_more_pages() -> None:
    from assistant.search.ranking import default_model

    strict = sample_service(QuotePolicy(presence_threshold=default_model().presence_threshold,
                                        extra_presence_threshold=np.inf))
    answer = strict.ask(GAZA)
    assert answer.answered and len(answer.quotes) == 1 and not answer.more
    assert strict.ask(GAZA, page=2).quotes == ()


def test_later_pages_keep_to_the_period_asked_about(service) -> None:
    question = "How many people were killed in Israeli strikes on Gaza in July 2026?"
    quotes = [quote for answer in all_pages(service, question) for quote in answer.quotes]
    assert len(quotes) >= 2
    for quote in quotes:
        assert (quote.published or "").startswith("2026-07") or "July" in quote.text, quote


@pytest.mark.parametrize("order, newest_first", [("date", True), ("date-asc", False)])
def test_sort_by_date_orders_the_same_quotes_by_publication_date(service, order, newest_first) -> None:
    by_relevance = [q for answer in all_pages(service, GAZA) for q in answer.quotes]
    by_date_pages = all_pages(service, GAZA, order)
    by_date = [q for answer in by_date_pages for q in answer.quotes]
    assert sorted(map(key, by_date)) == sorted(map(key, by_relevance))  # the same quotes, reordered
    dates = [q.published for q in by_date]
    assert dates == sorted(dates, reverse=newest_first) and len(set(dates)) >= 2
    assert [q.marker for q in by_date] == list(range(1, len(by_date) + 1))
    assert by_date_pages[0].order is QuoteOrder(order) and answer_to_json(by_date_pages[0])["sort"] == order


def test_bad_page_or_order_is_one_plain_error(service) -> None:
    for page in (0, 11, "two"):
        with pytest.raises(QuestionError, match="page must be a whole number from 1 to 10"):
            service.ask(GAZA, page=page)
    with pytest.raises(QuestionError, match="sort must be one of 'relevance', 'date', 'date-asc'"):
        service.ask(GAZA, order="newest")


def test_the_http_api_takes_page_and_sort(service) -> None:
    from fastapi.testclient import TestClient

    from assistant.web.server import ServerSettings, create_app

    client = TestClient(create_app(service, server=ServerSettings(), settings=service.settings))
    first = client.get("/api/ask", params={"question": GAZA}).json()
    assert first["page"] == 1 and first["more"] is True and first["sort"] == "relevance"
    second = client.get("/api/ask", params={"question": GAZA, "page": 2}).json()
    assert [q["marker"] for q in second["quotes"]][0] == 4
    shown_first = {(q["doc_id"], q["start"]) for q in first["quotes"]}
    assert second["quotes"] and not shown_first & {(q["doc_id"], q["start"]) for q in second["quotes"]}
    posted = client.post("/api/ask", json={"question": GAZA, "sort": "date-asc"}).json()
    dates = [q["published"] for q in posted["quotes"]]
    assert dates == sorted(dates) and posted["sort"] == "date-asc"
    refused = client.get("/api/ask", params={"question": GAZA, "page": 0})
    assert refused.status_code == 400 and refused.json() == {"error": "page must be a whole number from 1 to 10"}
    refused = client.get("/api/ask", params={"question": GAZA, "sort": "newest"})
    assert refused.status_code == 400 and "sort must be one of" in refused.json()["error"]
    docs = client.get("/docs").text
    assert "<code>more</code>" in docs and "<code>page</code>" in docs and "<code>sort</code>" in docs


def test_the_chat_says_plainly_that_a_later_page_is_empty_and_names_each_page() -> None:
    from assistant.answers.citations import NOT_ANSWERED
    from assistant.web.ui import render_answer

    empty = render_answer(Answer(question=GAZA, answered=True, page=3))
    assert NO_MORE_QUOTES in empty and NOT_ANSWERED not in empty and "More results, page 3" in empty

    service = sample_service()
    second = render_answer(service.ask(GAZA, page=2, order="date"))
    assert "More results, page 2: quotes 4–" in second and "ordered by publication date, newest first" in second
    assert "<p class=\"cqa-page-note\">" not in render_answer(service.ask(GAZA))  # page 1 by relevance: no note
