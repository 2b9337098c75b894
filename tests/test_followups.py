"""Follow-up questions resolved by rules against the previous question (assistant/search/followups.py)."""

from __future__ import annotations

from assistant.search.followups import Asked, resolve

SUMY = Asked(question="How many people were killed in strikes on Sumy?", sources=("Reuters",),
             since="2025-05-01", until="2025-05-31")


def test_a_month_reuses_the_question_and_the_previous_year() -> None:
    follow = resolve("And in June?", SUMY)

    assert follow.rule == "period"
    assert follow.asked == Asked(question=SUMY.question, sources=("Reuters",), since="2025-06-01",
                                 until="2025-06-30")
    assert follow.understood == ("Searching: How many people were killed in strikes on Sumy? · June 2025 "
                                 "· from Reuters")


def test_a_named_month_and_year_or_a_year_set_the_period() -> None:
    assert resolve("What about May 2024?", SUMY).asked.since == "2024-05-01"
    year = resolve("And in 2024?", SUMY)
    assert (year.asked.since, year.asked.until) == ("2024-01-01", "2024-12-31")
    assert "· 2024" in year.understood


def test_a_month_without_any_year_to_take_is_not_guessed() -> None:
    undated = Asked(question="How many people were killed in Sumy?")
    follow = resolve("And in June?", undated)

    assert follow.rule is None and follow.asked.question == "And in June?"


def test_a_new_place_replaces_the_previous_one() -> None:
    follow = resolve("What about Kharkiv?", SUMY)

    assert follow.rule == "place"
    assert follow.asked.question == "How many people were killed in strikes on Kharkiv?"
    assert (follow.asked.since, follow.asked.sources) == ("2025-05-01", ("Reuters",))
    no_place = resolve("And Kharkiv?", Asked(question="how many people were killed?"))
    assert no_place.asked.question == "how many people were killed in Kharkiv?"


def test_who_said_that_asks_the_same_question_again() -> None:
    follow = resolve("Who said that?", SUMY)

    assert follow.rule == "attribution" and follow.asked.question == SUMY.question
    assert "byline" in follow.understood


def test_a_full_question_or_a_first_question_is_asked_as_written() -> None:
    long = "How many civilians were killed in Kharkiv during the spring offensive?"
    assert resolve(long, SUMY).rule is None and resolve(long, SUMY).asked.question == long
    assert resolve("What about Kharkiv?", None).asked.question == "What about Kharkiv?"
    assert resolve("and then?", SUMY).rule is None
