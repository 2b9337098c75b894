"""Casualty figures found inside quotes."""

from __future__ import annotations

import pytest

from assistant.answers.figures import find_figures

SEED = ("The country’s Permanent Representative the UN Security Council called the strikes "
        "“indiscriminate” and said they killed 18 people, including three children, in addition "
        "to injuring 108 others.")


def figures(text):
    return [(f.value, f.category, f.text) for f in find_figures(text)]


def test_seed_sentence_figures():
    assert figures(SEED) == [("18", "killed", "killed 18 people"), ("108", "injured", "injuring 108 others")]


def test_offsets_point_into_the_quote():
    for figure in find_figures(SEED):
        assert SEED[figure.start:figure.end] == figure.text


@pytest.mark.parametrize("text, expected", [
    ("At least 21 people were killed and dozens wounded.",
     [("At least 21", "killed", "At least 21 people were killed"), ("dozens", "injured", "dozens wounded")]),
    ("The attack killed 24 people and injured 134 others.",
     [("24", "killed", "killed 24 people"), ("134", "injured", "injured 134 others")]),
    ("The death toll rose to 30 on Sunday.", [("30", "killed", "death toll rose to 30")]),
    ("At least 180 people, mostly schoolgirls, are killed in an airstrike.",
     [("At least 180", "killed", "At least 180 people, mostly schoolgirls, are killed")]),
    ("More than 5,000 people displaced by the fighting.",
     [("More than 5,000", "displaced", "More than 5,000 people displaced")]),
    ("Twenty people are rescued and three are reported missing.", [("three", "missing", "three are reported missing")]),
])
def test_number_and_casualty_word_in_either_order(text, expected):
    assert figures(text) == expected


@pytest.mark.parametrize("text", [
    "The war started in 2014 and escalated in 2022.",
    "The UN Security Council met on 30 December.",
    "In 2024 killed was a word nobody used.",
])
def test_years_and_plain_numbers_are_not_figures(text):
    assert figures(text) == []
