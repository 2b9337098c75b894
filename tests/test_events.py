"""Event grouping: only reports of one event are compared; running counts in date order, newest first when asked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from assistant.answers import events
from assistant.answers.figures import find_figures
from assistant.records import Quote


def quote(text: str, *, marker: int, source: str, published: str | None, title: str, doc_id: str) -> Quote:
    return Quote(text=text, doc_id=doc_id, title=title, source=source, url=None, published=published,
                 start=0, end=len(text), score=1.0, figures=find_figures(text), marker=marker)


# Three items of the shared conflict-news corpus: CENTCOM's running count of ships turned back.
BLOCKADE_21 = quote("The U.S. Central Command reports that 21 ships have been turned back since the start of "
                    "the blockade.", marker=1, source="NBC News", published="2026-04-18",
                    title="2026 Iran war > Naval blockade of Iran", doc_id="wcep-2026-04-18-004")
BLOCKADE_100 = quote("The U.S. Central Command says that they have redirected 100 commercial ships and disabled "
                     "four others from the Strait of Hormuz since the blockade started.", marker=2, source="AA",
                     published="2026-05-23", title="2026 Iran war > 2026 Strait of Hormuz crisis",
                     doc_id="wcep-2026-05-23-001")
BLOCKADE_55 = quote("The United States Central Command says that they have redirected 55 vessels linked to Iran "
                    "since reinstating the blockade in July.", marker=3, source="Middle East Eye",
                    published="2026-08-10", title="2026 Iran war > 2026 United States naval blockade of Iran",
                    doc_id="wcep-2026-08-10-001")
SUMY = quote("Two Russian Iskander-M ballistic missiles strike the centre of Sumy, Ukraine, killing at least 35 "
             "people and wounding 117 others.", marker=4, source="BBC News", published="2025-04-13",
             title="2025 Sumy airstrike", doc_id="wcep-2025-04-13-001")
KRYVYI_RIH = quote("Russian drone strikes on a shopping center in Kryvyi Rih, Dnipropetrovsk Oblast, Ukraine, kill "
                   "at least 16 people.", marker=5, source="Reuters", published="2025-04-14",
                   title="Kryvyi Rih strikes", doc_id="wcep-x")


def test_a_running_count_is_one_event_shown_in_date_order():
    groups = events.group_events([BLOCKADE_55, SUMY, BLOCKADE_21, BLOCKADE_100])
    assert [[q.marker for q in group] for group in groups] == [[1, 2, 3], [4]]
    line = events.timeline(groups[0])["vessels"]
    assert line == ("21 → 100 → 55, as reported on 2026-04-18 (NBC News), 2026-05-23 (AA), "
                    "2026-08-10 (Middle East Eye)")
    assert events.is_running_count(groups[0])
    assert events.disagreement(groups[0]) == (
        "The reports differ (vessels): AA (2026-05-23) gives 100; Middle East Eye (2026-08-10) gives 55.")


def test_strikes_on_different_cities_a_day_apart_are_different_events():
    assert not events.same_event(SUMY, KRYVYI_RIH)
    assert len(events.group_events([SUMY, KRYVYI_RIH])) == 2


def test_same_place_weeks_apart_is_not_one_incident():
    later = quote("A Russian drone strike on a postal facility in Sumy has killed two people.", marker=6,
                  source="AFP", published="2025-05-20", title="2025 Sumy airstrike", doc_id="wcep-y")
    assert not events.same_event(SUMY, later)
    undated = quote("A strike on Sumy killed two people.", marker=7, source="AFP", published=None,
                    title="2025 Sumy airstrike", doc_id="wcep-z")
    assert not events.same_event(SUMY, undated)


def test_questions_about_the_latest_put_the_newest_report_first():
    quotes = (BLOCKADE_21, BLOCKADE_55, BLOCKADE_100)
    latest = events.latest_first("How many ships has CENTCOM turned back so far?", quotes)
    assert [(q.source, q.marker) for q in latest] == [("Middle East Eye", 1), ("AA", 2), ("NBC News", 3)]
    assert events.latest_first("Which ships did CENTCOM turn back in April?", quotes) == quotes
    for question in ("What is the latest count?", "How many since the blockade began?", "How many now?"):
        assert events.asks_for_latest(question)


def test_running_count_questions_of_the_question_set_are_one_comparison_latest_first():
    root = Path(__file__).resolve().parents[1]
    bench = importlib.util.spec_from_file_location("eval_events", root / "bench" / "eval_events.py")
    module = importlib.util.module_from_spec(bench)
    bench.loader.exec_module(module)
    if not module.CORPUS.exists():
        pytest.skip("the shared conflict-news corpus is not on this machine")
    checks = module.question_checks()
    assert checks["questions_checked"] >= 7 and checks["failures"] == 0


def test_two_sentences_of_one_report_are_not_a_disagreement():
    total = quote("At least 100 Palestinians are killed in airstrikes across the Gaza Strip.", marker=1,
                  source="Al Jazeera", published="2025-04-03", title="Rafah offensive", doc_id="wcep-2025-04-03-001")
    part = quote("One of the strikes killed at least 27 people in Gaza City.", marker=2, source="Al Jazeera",
                 published="2025-04-03", title="Rafah offensive", doc_id="wcep-2025-04-03-001")
    assert events.group_events([total, part]) == [[total, part]]
    assert events.disagreement([total, part]) is None
    assert events.timeline([total, part]) == {}


def test_a_figure_is_credited_to_the_publisher_and_the_report_it_cites():
    from assistant.answers.events import reported_by
    from assistant.records import Attribution, CitedReport, Quote

    summary = Quote(text="Airstrikes kill 19 people in Sumy.", doc_id="w", title="t", source="Reuters",
                    url="https://reuters.com/a", published="2025-04-04", start=0, end=34, score=1.0,
                    attribution=Attribution(publisher="Wikipedia Portal:Current events",
                                            cites=(CitedReport(name="Reuters", url="https://reuters.com/a"),)))
    assert reported_by(summary) == "Wikipedia, Portal:Current events, citing Reuters"
    own_words = Quote(text="The strikes killed 18 people.", doc_id="j", title="t", source="JURIST", url=None,
                      published="2023-12-31", start=0, end=29, score=1.0, attribution=Attribution(publisher="JURIST"))
    assert reported_by(own_words) == "JURIST"
