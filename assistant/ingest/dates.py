"""Reading dates: publication dates in the corpus, date filters, and dates named in questions.

Three readers, each strict in its own way:

- `normalize_date` turns whatever a corpus file holds for `published` into an ISO
  date (YYYY-MM-DD), or None when it cannot say which day it was.
- `parse_date_bound` reads a `--since`/`--until` style bound (YYYY-MM-DD, YYYY-MM, YYYY).
- `question_dates` finds the dates a question names ("on 18 January 2025", "in May 2025").
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from dateutil import parser as dateutil_parser

EARLIEST_YEAR = 1900
LATEST_YEAR = 2099
"""Years outside this range are read as numbers, not dates ("in 2500 homes")."""

_ISO_DATE_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|[T ]\d)")

# Two defaults that differ in every field: a component dateutil fills in from the
# default (because the text lacks it) shows up as a difference between the two parses.
_DEFAULT_A = dt.datetime(2001, 1, 1)
_DEFAULT_B = dt.datetime(2002, 2, 2)


def normalize_date(value: object) -> str | None:
    """The ISO date (YYYY-MM-DD) that `value` names, or None.

    Accepts `date`/`datetime` objects (as YAML front matter gives them), ISO strings
    with or without a time and zone ("2023-12-30T21:00:00+03:00" -> "2023-12-30": the
    date as written, not converted to UTC), and written-out dates ("30 December 2023",
    "Dec 30, 2023"). A value that lacks the day ("December 2023", 2023) or that no
    reader understands gives None: a guessed day would be a wrong citation.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    # Fast path: almost every machine-written date is ISO, and dateutil is slow.
    iso = _ISO_DATE_PREFIX.match(text)
    if iso:
        return _valid_iso(int(iso[1]), int(iso[2]), int(iso[3]))
    return _parse_written_date(text)


def _valid_iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _parse_written_date(text: str) -> str | None:
    if not re.search(r"\d", text) or len(text) > 64:
        return None
    try:
        first = dateutil_parser.parse(text, default=_DEFAULT_A)
        second = dateutil_parser.parse(text, default=_DEFAULT_B)
    except (ValueError, OverflowError, TypeError):
        return None
    if first.date() != second.date():
        return None
    if not EARLIEST_YEAR <= first.year <= LATEST_YEAR:
        return None
    return first.date().isoformat()


_BOUND_ERROR = "cannot read date '{text}': use YYYY-MM-DD, YYYY-MM or YYYY"
_BOUND = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def parse_date_bound(text: str, *, end: bool) -> dt.date:
    """The first (`end=False`, a "since" bound) or last (`end=True`, an "until" bound)
    day that `text` covers: "2025-05" is 2025-05-01 as a start and 2025-05-31 as an end,
    "2025" is 2025-01-01 or 2025-12-31.

    Raises ValueError("cannot read date 'xyz': use YYYY-MM-DD, YYYY-MM or YYYY").
    """
    cleaned = text.strip()
    match = _BOUND.fullmatch(cleaned)
    if not match:
        raise ValueError(_BOUND_ERROR.format(text=text))
    year = int(match[1])
    month_text, day_text = match[2], match[3]
    try:
        if day_text is not None:
            return dt.date(year, int(month_text), int(day_text))
        if month_text is not None:
            return _month_range(year, int(month_text))[1 if end else 0]
        return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
    except ValueError:
        raise ValueError(_BOUND_ERROR.format(text=text)) from None


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    last_day = calendar.monthrange(year, month)[1]
    return dt.date(year, month, 1), dt.date(year, month, last_day)


@dataclass(frozen=True, kw_only=True)
class DateRange:
    """A date a question names, as the days it covers (both ends inclusive).

    `text` is the matched phrase, leading preposition included ("on 18 January 2025",
    "in May 2025"), and `span_start`/`span_end` are its offsets into the question, so a
    caller can cut the phrase out before searching for the rest.
    """

    start: dt.date
    end: dt.date
    text: str
    span_start: int
    span_end: int


_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
    "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>\d{4})(?!\d)(?![,.]\d)"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_PREPOSITION = r"(?:(?:on|in|during|throughout)\s+)?"

# Most specific first: a day-level phrase claims its span before the month or year
# reading of the same words can.
_QUESTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("day", rf"\b{_PREPOSITION}(?P<year>\d{{4}})-(?P<month>\d{{2}})-(?P<day>\d{{2}})\b"),
        ("day", rf"\b{_PREPOSITION}{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}"),
        ("day", rf"\b{_PREPOSITION}{_MONTH}\s+{_DAY},?\s+{_YEAR}"),
        ("month", rf"\b{_PREPOSITION}{_MONTH},?\s+{_YEAR}"),
        ("month", rf"\b{_PREPOSITION}(?P<year>\d{{4}})-(?P<month>\d{{2}})\b(?!-\d)"),
        # A bare four-digit number is too often a count ("1500 people"), so a year
        # alone counts only after a preposition.
        ("year", rf"\b(?:in|during|throughout)\s+{_YEAR}\b"),
    )
)


def question_dates(question: str) -> tuple[DateRange, ...]:
    """Every date `question` names, in order of appearance, without overlaps.

    Recognised: "on 18 January 2025", "18 Jan 2025", "January 18, 2025", "2025-01-18"
    (one day); "in May 2025", "May 2025", "2025-05" (the whole month); "in 2025" (the
    whole year, only after in/during/throughout). Plain numbers ("18 killed", "2,000
    people") and impossible dates ("31 February 2025") are not dates.
    """
    found: list[DateRange] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _QUESTION_PATTERNS:
        for match in pattern.finditer(question):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            # An impossible date ("31 February 2025") still claims its words, so
            # that they are not re-read as the whole month.
            taken.append(span)
            covered = _covered_days(kind, match)
            if covered is None:
                continue
            found.append(DateRange(start=covered[0], end=covered[1], text=match[0],
                                   span_start=span[0], span_end=span[1]))
    return tuple(sorted(found, key=lambda date_range: date_range.span_start))


def _covered_days(kind: str, match: re.Match[str]) -> tuple[dt.date, dt.date] | None:
    year = int(match["year"])
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return None
    if kind == "year":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    month_text = match["month"].lower()
    month = int(month_text) if month_text.isdigit() else _MONTHS[month_text]
    if not 1 <= month <= 12:
        return None
    if kind == "month":
        return _month_range(year, month)
    try:
        day = dt.date(year, month, int(match["day"]))
    except ValueError:
        return None
    return day, day
