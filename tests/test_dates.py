import datetime as dt

import pytest

from assistant.ingest.dates import DateRange, normalize_date, parse_date_bound, question_dates


@pytest.mark.parametrize("value", [
    "2023-12-30",
    "2023-12-30T23:10:00+02:00",
    "2023-12-30 08:00:00",
    "30 December 2023",
    "Dec 30, 2023",
    "Saturday, 30 December 2023",
    dt.date(2023, 12, 30),
    dt.datetime(2023, 12, 30, 23, 59),
])
def test_normalize_date_reads_common_forms(value):
    assert normalize_date(value) == "2023-12-30"


@pytest.mark.parametrize("value", [
    None, "", "   ", "sometime last week", "December 2023", "2023", 2023, "2023-02-30", "30/13/2023",
])
def test_normalize_date_gives_none_rather_than_guessing(value):
    assert normalize_date(value) is None


@pytest.mark.parametrize(("text", "end", "expected"), [
    ("2025-01-18", False, dt.date(2025, 1, 18)),
    ("2025-01-18", True, dt.date(2025, 1, 18)),
    ("2024-02", False, dt.date(2024, 2, 1)),
    ("2024-02", True, dt.date(2024, 2, 29)),
    ("2025", False, dt.date(2025, 1, 1)),
    ("2025", True, dt.date(2025, 12, 31)),
    (" 2025-5 ", True, dt.date(2025, 5, 31)),
])
def test_parse_date_bound(text, end, expected):
    assert parse_date_bound(text, end=end) == expected


@pytest.mark.parametrize("text", ["xyz", "18 January 2025", "2025-13", "2025-02-30", ""])
def test_parse_date_bound_rejects_with_one_clear_line(text):
    with pytest.raises(ValueError) as caught:
        parse_date_bound(text, end=False)
    assert str(caught.value) == f"cannot read date '{text}': use YYYY-MM-DD, YYYY-MM or YYYY"


DAY = (dt.date(2025, 1, 18), dt.date(2025, 1, 18))
MAY = (dt.date(2025, 5, 1), dt.date(2025, 5, 31))
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.mark.parametrize(("question", "phrase", "days"), [
    ("What happened in Gaza on 18 January 2025?", "on 18 January 2025", DAY),
    ("Strikes 18 Jan 2025", "18 Jan 2025", DAY),
    ("Who was killed January 18, 2025 in Khan Younis?", "January 18, 2025", DAY),
    ("attacks 2025-01-18", "2025-01-18", DAY),
    ("the 18th of January 2025", "18th of January 2025", DAY),
    ("How many died in May 2025?", "in May 2025", MAY),
    ("Sudan May 2025", "May 2025", MAY),
    ("What happened in Sudan in 2025?", "in 2025", YEAR),
])
def test_question_dates_finds_the_date_and_its_span(question, phrase, days):
    (found,) = question_dates(question)
    assert (found.start, found.end) == days
    assert found.text == phrase
    assert question[found.span_start:found.span_end] == phrase


@pytest.mark.parametrize("question", [
    "18 killed in Belgorod",
    "Were 2,000 people displaced?",
    "1500 people fled",
    "Were shells fired at 1500 homes?",
    "What may happen next?",
    "Was it 31 February 2025?",
])
def test_question_dates_ignores_plain_numbers_and_impossible_dates(question):
    assert question_dates(question) == ()


def test_question_dates_finds_several_in_order_without_overlap():
    found = question_dates("Compare 2024-02 with on 3 March 2024 and during 2023")
    assert [(item.text, item.start, item.end) for item in found] == [
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("on 3 March 2024", dt.date(2024, 3, 3), dt.date(2024, 3, 3)),
        ("during 2023", dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
    ]
    assert all(isinstance(item, DateRange) for item in found)
